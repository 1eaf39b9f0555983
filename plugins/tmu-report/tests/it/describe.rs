//! Self-description: the two stages, their examples valid configs, every config field documented,
//! defaulted and closed to unknown fields.

use tmu_report::{FeaturesJoin, ReportSweep};
use tmu_test_support::{check_examples, check_stage_configs};

#[test]
fn examples_deserialize_and_every_field_is_documented() {
    check_examples::<ReportSweep>();
    check_examples::<FeaturesJoin>();
    check_stage_configs(tmu_report::tmu_plugin(), &["report.sweep", "features.join", "report.membership"]);
}
