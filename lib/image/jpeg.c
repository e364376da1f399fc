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

/* libjpeg's warnings (a corrupt frame's) would go to stderr: not ours to print. */
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

int
image_jpeg_decode_grey(const void *data, size_t len, size_t max_pixels, uint8_t **ret_pixels,
    int *ret_width, int *ret_height)
{
	struct jpeg_decompress_struct d;
	struct jerr je;
	uint8_t *volatile px = NULL;
	JSAMPROW row;
	size_t w, h;

	if (data == NULL || len == 0 || len > (size_t)0xffffffffu)
		return -EINVAL;
	d.err = jpeg_std_error(&je.mgr);
	je.mgr.error_exit = jerr_exit;
	je.mgr.output_message = jerr_output;
	if (setjmp(je.jmp)) {
		jpeg_destroy_decompress(&d);
		free(px);
		return -EBADMSG;
	}
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, (const unsigned char *)data, (unsigned long)len);
	if (jpeg_read_header(&d, TRUE) != JPEG_HEADER_OK) {
		jpeg_destroy_decompress(&d);
		return -EBADMSG;
	}
	d.out_color_space = JCS_GRAYSCALE;
	w = d.image_width;
	h = d.image_height;
	if (w == 0 || h == 0 || w > 65535 || h > 65535 || (max_pixels > 0 && w * h > max_pixels)) {
		jpeg_destroy_decompress(&d);
		return -E2BIG;
	}
	if ((px = malloc(w * h)) == NULL) {
		jpeg_destroy_decompress(&d);
		return -ENOMEM;
	}
	jpeg_start_decompress(&d);
	if (d.output_width != w || d.output_height != h || d.output_components != 1)
		longjmp(je.jmp, 1);
	while (d.output_scanline < d.output_height) {
		row = px + (size_t)d.output_scanline * w;
		jpeg_read_scanlines(&d, &row, 1);
	}
	/* As OpenCV did: a truncated file's missing rows are libjpeg's grey, with a warning. */
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	*ret_pixels = px;
	*ret_width = (int)w;
	*ret_height = (int)h;
	return 0;
}
