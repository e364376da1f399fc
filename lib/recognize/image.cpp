/*
 * image.cpp - decode image files to grey for the recognizer.
 *
 * Runs in alpr-recognize and in ocrd's worker; the bytes are untrusted.
 * The header is parsed here, before OpenCV sees anything, so that size
 * caps hold (OpenCV would happily allocate a 20000x20000 frame) and
 * truncated JPEGs are refused (libjpeg pads them with grey and warns).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "recognize.h"

#define FILE_MAX	(64L * 1024 * 1024)

static unsigned
be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned long
be32(const uint8_t *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 |
	       (unsigned long)p[2] << 8 | p[3];
}

static long
le32s(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
			 (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

static int
jpeg_size(const uint8_t *d, size_t len, long *w, long *h)
{
	size_t i = 2, sos = 0;
	long last_eoi = -1;

	while (i + 4 <= len) {
		unsigned m, l;

		if (d[i] != 0xff)
			return -EBADMSG;
		m = d[i + 1];
		if (m == 0xff) {	/* fill byte */
			i++;
			continue;
		}
		if (m == 0xd8 || m == 0x01 || (m >= 0xd0 && m <= 0xd7)) {
			i += 2;
			continue;
		}
		l = be16(d + i + 2);
		if (l < 2 || i + 2 + l > len)
			return -EBADMSG;
		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 &&
		    m != 0xcc) {
			if (l < 7)
				return -EBADMSG;
			*h = be16(d + i + 5);
			*w = be16(d + i + 7);
			/* refuse a huge frame before looking any further */
			if (*w > REC_MAX_SIDE || *h > REC_MAX_SIDE ||
			    *w * *h > REC_MAX_PIXELS)
				return -E2BIG;
		}
		if (m == 0xda) {
			sos = i + 2 + l;
			break;
		}
		i += 2 + l;
	}
	if (sos == 0 || *w <= 0 || *h <= 0)
		return -EBADMSG;
	/* a complete JPEG ends with EOI after its scan data */
	for (size_t j = len - 1; j > sos; j--)
		if (d[j - 1] == 0xff && d[j] == 0xd9) {
			last_eoi = (long)j;
			break;
		}
	if (last_eoi < 0)
		return -EBADMSG;
	return 0;
}

static int
pnm_size(const uint8_t *d, size_t len, long *w, long *h)
{
	long v[2];
	size_t i = 2;

	for (int k = 0; k < 2; k++) {
		for (;;) {
			while (i < len && (d[i] == ' ' || d[i] == '\t' ||
					   d[i] == '\n' || d[i] == '\r'))
				i++;
			if (i < len && d[i] == '#') {
				while (i < len && d[i] != '\n')
					i++;
				continue;
			}
			break;
		}
		if (i >= len || d[i] < '0' || d[i] > '9')
			return -EBADMSG;
		v[k] = 0;
		while (i < len && d[i] >= '0' && d[i] <= '9') {
			if (v[k] > 1000000)
				return -E2BIG;
			v[k] = v[k] * 10 + (d[i] - '0');
			i++;
		}
	}
	*w = v[0];
	*h = v[1];
	return 0;
}

/* Width and height from the header; refuses unknown formats. */
static int
sniff(const uint8_t *d, size_t len, long *w, long *h)
{
	static const uint8_t png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
					'\n' };
	int r;

	*w = *h = 0;
	if (len >= 24 && memcmp(d, png, 8) == 0) {
		if (memcmp(d + 12, "IHDR", 4) != 0)
			return -EBADMSG;
		*w = (long)be32(d + 16);
		*h = (long)be32(d + 20);
		r = 0;
	} else if (len >= 4 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) {
		r = jpeg_size(d, len, w, h);
	} else if (len >= 26 && d[0] == 'B' && d[1] == 'M') {
		*w = le32s(d + 18);
		*h = labs(le32s(d + 22));
		r = 0;
	} else if (len >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '6') {
		r = pnm_size(d, len, w, h);
	} else {
		return -EMEDIUMTYPE;
	}
	if (r < 0)
		return r;
	if (*w <= 0 || *h <= 0)
		return -EBADMSG;
	if (*w > REC_MAX_SIDE || *h > REC_MAX_SIDE ||
	    *w * *h > REC_MAX_PIXELS)
		return -E2BIG;
	return 0;
}

extern "C" int
rec_image_decode(const void *data, size_t len, uint8_t **ret_grey,
		 int *ret_width, int *ret_height)
{
	const uint8_t *d = (const uint8_t *)data;
	long w, h;
	uint8_t *out;
	int r;

	if (!ret_grey || !ret_width || !ret_height || (!d && len))
		return -EINVAL;
	if (len == 0)
		return -ENODATA;
	r = sniff(d, len, &w, &h);
	if (r < 0)
		return r;
	try {
		cv::Mat buf(1, (int)len, CV_8UC1, (void *)d);
		cv::Mat img = cv::imdecode(buf, cv::IMREAD_GRAYSCALE |
					   cv::IMREAD_IGNORE_ORIENTATION);

		if (img.empty() || img.type() != CV_8UC1)
			return -EBADMSG;
		if (img.cols != w || img.rows != h)
			return -EBADMSG;
		out = (uint8_t *)malloc((size_t)w * (size_t)h);
		if (!out)
			return -ENOMEM;
		for (int y = 0; y < img.rows; y++)
			memcpy(out + (size_t)y * w, img.ptr(y), (size_t)w);
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return -EBADMSG;
	}
	*ret_grey = out;
	*ret_width = (int)w;
	*ret_height = (int)h;
	return 0;
}

extern "C" int
rec_image_load(const char *path, uint8_t **ret_grey, int *ret_width,
	       int *ret_height)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	int fd, r;

	if (!path)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	if (st.st_size == 0) {
		r = -ENODATA;
		goto out;
	}
	if (st.st_size > FILE_MAX) {
		r = -EFBIG;
		goto out;
	}
	buf = (uint8_t *)malloc((size_t)st.st_size);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	r = rec_image_decode(buf, got, ret_grey, ret_width, ret_height);
out:
	free(buf);
	close(fd);
	return r;
}
