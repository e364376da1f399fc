/* lib/image: JPEG of grey images through libjpeg. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

static void
test_round_trip(void **state)
{
	static uint8_t px[STRIDE * H];
	uint8_t *jpg = NULL, *out = NULL;
	size_t len = 0;
	int w = 0, h = 0, x, y, worst = 0, d;

	(void)state;
	picture(px);
	assert_int_equal(image_jpeg_encode(px, W, H, STRIDE, 95, &jpg, &len), 0);
	assert_true(len > 100);
	assert_int_equal(jpg[0], 0xff);
	assert_int_equal(jpg[1], 0xd8);
	assert_int_equal(image_jpeg_decode_grey(jpg, len, 0, &out, &w, &h), 0);
	assert_int_equal(w, W);
	assert_int_equal(h, H);
	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++) {
			d = abs(out[y * W + x] - px[y * STRIDE + x]);
			worst = d > worst ? d : worst;
		}
	assert_true(worst < 24);	/* the bar's edges ring a little, nothing of 0xee */
	assert_true(abs(out[10 * W + 48] - 20) < 8);
	/* Too many pixels for the caller: refused before decoding. */
	free(out);
	out = NULL;
	assert_int_equal(image_jpeg_decode_grey(jpg, len, W * H - 1, &out, &w, &h), -E2BIG);
	assert_null(out);
	free(jpg);
}

static void
test_bad_input(void **state)
{
	static uint8_t px[STRIDE * H];
	static const uint8_t junk[] = "\xff\xd8\xff\xe0 not a JPEG at all, just bytes";
	uint8_t *jpg = NULL, *out = NULL;
	size_t len = 0;
	int w, h;

	(void)state;
	assert_int_equal(image_jpeg_decode_grey(junk, sizeof(junk), 0, &out, &w, &h), -EBADMSG);
	assert_int_equal(image_jpeg_decode_grey("plain text", 10, 0, &out, &w, &h), -EBADMSG);
	assert_null(out);
	picture(px);
	assert_int_equal(image_jpeg_encode(px, W, H, STRIDE, 80, &jpg, &len), 0);
	/* Cut before the first scan: no picture in it. */
	assert_int_equal(image_jpeg_decode_grey(jpg, 200 < len ? 200 : len / 2, 0, &out, &w, &h),
	    -EBADMSG);
	free(jpg);
	assert_int_equal(image_jpeg_encode(px, W, H, W - 1, 80, &jpg, &len), -EINVAL);
	assert_int_equal(image_jpeg_encode(px, W, H, STRIDE, 0, &jpg, &len), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
