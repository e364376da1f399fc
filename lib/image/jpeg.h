/*
 * JPEG of 8-bit grey images through libjpeg (libjpeg-turbo), for the
 * daemons that need nothing else of an image library: alpr-ocrd encodes
 * its reads' crop and context.  OpenCV's imgcodecs would do the same
 * through this very libjpeg, but loading it maps GDAL, GDCM, Poppler and
 * some seventy other libraries into each process (~55 MB of RSS apiece,
 * doc/benchmarks.md).  A libtool convenience library, not part of libalpr.
 * Returns 0 or -errno.
 */
#ifndef ALPR_IMAGE_JPEG_H
#define ALPR_IMAGE_JPEG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* width x height grey pixels, stride bytes a row; a malloc'd JPEG in *ret. */
int image_jpeg_encode(const uint8_t *pixels, int width, int height, size_t stride,
    int quality, uint8_t **ret, size_t *ret_len);

#ifdef __cplusplus
}
#endif

#endif
