/*
 * JPEG through libjpeg (jpeg.h).  libjpeg reports errors by calling
 * error_exit, which must not return: it longjmps back here.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "image/jpeg.h"

struct jerr {
	struct jpeg_error_mgr mgr;
	jmp_buf jmp;
};

static void
jerr_exit(j_common_ptr cinfo)
{
	longjmp(((struct jerr *)cinfo->err)->jmp, 1);
}

/* libjpeg's messages would go to stderr: the caller says what failed. */
static void
jerr_output(j_common_ptr cinfo)
{
	(void)cinfo;
}

int
image_jpeg_encode(const uint8_t *pixels, int width, int height, size_t stride, int quality,
    uint8_t **ret, size_t *ret_len)
{
	struct jpeg_compress_struct c;
	struct jerr je;
	unsigned char *out = NULL;	/* address taken: kept in memory across longjmp */
	unsigned long out_len = 0;
	JSAMPROW row;

	if (pixels == NULL || width <= 0 || height <= 0 || stride < (size_t)width ||
	    quality < 1 || quality > 100)
		return -EINVAL;
	c.err = jpeg_std_error(&je.mgr);
	je.mgr.error_exit = jerr_exit;
	je.mgr.output_message = jerr_output;
	if (setjmp(je.jmp)) {
		jpeg_destroy_compress(&c);
		free(out);
		return -EIO;
	}
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &out, &out_len);
	c.image_width = (JDIMENSION)width;
	c.image_height = (JDIMENSION)height;
	c.input_components = 1;
	c.in_color_space = JCS_GRAYSCALE;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, quality, TRUE);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		row = (JSAMPROW)(pixels + (size_t)c.next_scanline * stride);
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	*ret = out;
	*ret_len = out_len;
	return 0;
}
