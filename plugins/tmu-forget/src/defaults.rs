//! Defaults shared by the configs of the unlearning stages (the method spec's forgetting step:
//! SGD lr 0.01, momentum 0.9, weight decay 5e-4, batch 64, 5 epochs).

pub fn lr() -> f64 {
    0.01
}
pub fn momentum() -> f64 {
    0.9
}
pub fn weight_decay() -> f64 {
    5e-4
}
pub fn batch_size() -> usize {
    64
}
pub fn epochs() -> usize {
    5
}
pub fn one() -> f64 {
    1.0
}
