/* lib/image: JPEG of grey images through libjpeg. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jpeglib.h>

#include "image/jpeg.h"

#define W 96
#define H 40
#define STRIDE 128

/* A smooth gradient with a dark bar: what a JPEG keeps within a few levels. */
static void
picture(uint8_t *px)
{
	int x, y;

	memset(px, 0xee, (size_t)STRIDE * H);	/* past the width: never encoded */
	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++)
			px[y * STRIDE + x] = (uint8_t)(x >= 40 && x < 56 ? 20 : 60 + x + y);
}

/* libjpeg itself reads what we wrote back (its error_exit ends the test on a bad file). */
static uint8_t *
decode(const uint8_t *jpg, size_t len, int *w, int *h, int *components)
{
	struct jpeg_decompress_struct d;
	struct jpeg_error_mgr err;
	uint8_t *px;
	JSAMPROW row;

	d.err = jpeg_std_error(&err);
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, jpg, (unsigned long)len);
	assert_int_equal(jpeg_read_header(&d, TRUE), JPEG_HEADER_OK);
	*components = d.num_components;
	jpeg_start_decompress(&d);
	*w = (int)d.output_width;
	*h = (int)d.output_height;
	px = malloc((size_t)*w * *h * d.output_components);
	assert_non_null(px);
	while (d.output_scanline < d.output_height) {
		row = px + (size_t)d.output_scanline * *w * d.output_components;
		jpeg_read_scanlines(&d, &row, 1);
	}
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	return px;
}

static void
test_round_trip(void **state)
{
	static uint8_t px[STRIDE * H];
	uint8_t *jpg = NULL, *out;
	size_t len = 0, small_len = 0;
	int w = 0, h = 0, comps = 0, x, y, worst = 0, d;

	(void)state;
	picture(px);
	assert_int_equal(image_jpeg_encode(px, W, H, STRIDE, 95, &jpg, &len), 0);
	assert_true(len > 100);
	assert_int_equal(jpg[0], 0xff);
	assert_int_equal(jpg[1], 0xd8);
	out = decode(jpg, len, &w, &h, &comps);
	assert_int_equal(w, W);
	assert_int_equal(h, H);
	assert_int_equal(comps, 1);	/* grey, not three channels of it */
	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++) {
			d = abs(out[y * W + x] - px[y * STRIDE + x]);
			worst = d > worst ? d : worst;
		}
	assert_true(worst < 24);	/* the bar's edges ring a little, nothing of 0xee */
	assert_true(abs(out[10 * W + 48] - 20) < 8);
	free(out);
	free(jpg);
	/* The quality is applied: a low one gives a smaller file. */
	assert_int_equal(image_jpeg_encode(px, W, H, STRIDE, 20, &jpg, &small_len), 0);
	assert_true(small_len < len);
	free(jpg);
}

static void
test_bad_arguments(void **state)
{
	static uint8_t px[STRIDE * H];
	uint8_t *jpg = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(image_jpeg_encode(px, W, H, W - 1, 80, &jpg, &len), -EINVAL);
	assert_int_equal(image_jpeg_encode(px, W, H, STRIDE, 0, &jpg, &len), -EINVAL);
	assert_int_equal(image_jpeg_encode(px, 0, H, STRIDE, 80, &jpg, &len), -EINVAL);
	assert_int_equal(image_jpeg_encode(NULL, W, H, STRIDE, 80, &jpg, &len), -EINVAL);
	assert_null(jpg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
