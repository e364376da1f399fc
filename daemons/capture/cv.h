/*
 * The little of OpenCV that alpr-captured uses, behind a C API: image
 * files and video files decoded to 8-bit grey, frame statistics for
 * camera health, and PNG/JPEG encoding of an inspection sample.  No C++
 * exception crosses this boundary: every function returns >= 0 or -errno.
 * Runs in alpr-captured; the files it decodes are the operator's replay
 * material, treated as untrusted pixels.
 */
#ifndef ALPR_CAPTURE_CV_H
#define ALPR_CAPTURE_CV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Decodes an image file to grey: a malloc'd buffer, stride == width. */
int cvw_image_load_grey(const char *path, uint8_t **ret_pixels, int *ret_width, int *ret_height);

struct cvw_video;
int cvw_video_open(const char *path, struct cvw_video **ret);
void cvw_video_free(struct cvw_video *v);
/* Size of the frames; 0 when unknown until the first read. */
void cvw_video_size(const struct cvw_video *v, int *ret_width, int *ret_height);
/*
 * Decodes the next frame to grey into dst (width x height, stride bytes
 * per row; the size must be cvw_video_size's).  Returns 1, 0 at the end of
 * the file, or -errno.
 */
int cvw_video_read_grey(struct cvw_video *v, uint8_t *dst, int width, int height, int stride);
int cvw_video_rewind(struct cvw_video *v);

/*
 * Mean and standard deviation of the grey levels, and the variance of the
 * Laplacian (focus), measured on the image shrunk to at most max_width.
 */
int cvw_stats(const uint8_t *pixels, int width, int height, int stride, int max_width,
    double *ret_mean, double *ret_stddev, double *ret_sharpness);

/* ".png" or ".jpg" bytes of the image in a malloc'd buffer. */
int cvw_encode(const uint8_t *pixels, int width, int height, int stride, const char *ext,
    uint8_t **ret_buf, size_t *ret_len);

#ifdef __cplusplus
}
#endif

#endif
