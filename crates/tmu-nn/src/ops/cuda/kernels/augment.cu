// Training augmentation on the device: gathers the batch's images from the data set (u8, NCHW)
// and applies a per-image crop offset (zero padding) and horizontal flip, exactly as the host's
// crop_flip in data.rs: out[b, c, y, x] = img[c, y + dy, x' + dx] (0 outside), x' = W - 1 - x
// when flipped. params holds (dy, dx, flip) per batch image.
#include "common.cuh"

extern "C" __global__ void crop_flip_u8(const uint8_t* images, const uint32_t* index, const int32_t* params,
                                        uint8_t* out, uint32_t B, uint32_t C, uint32_t H, uint32_t W) {
  const uint64_t total = (uint64_t)B * C * H * W;
  GRID_STRIDE(i, total) {
    const uint32_t x = (uint32_t)(i % W);
    uint64_t t = i / W;
    const uint32_t y = (uint32_t)(t % H);
    t /= H;
    const uint32_t c = (uint32_t)(t % C);
    const uint32_t b = (uint32_t)(t / C);
    const int32_t dy = params[3 * b], dx = params[3 * b + 1], flip = params[3 * b + 2];
    const int32_t xc = flip ? (int32_t)(W - 1 - x) : (int32_t)x;
    const int32_t sy = (int32_t)y + dy, sx = xc + dx;
    uint8_t v = 0;
    if (sy >= 0 && sy < (int32_t)H && sx >= 0 && sx < (int32_t)W) {
      v = images[(((uint64_t)index[b] * C + c) * H + (uint32_t)sy) * W + (uint32_t)sx];
    }
    out[i] = v;
  }
}
