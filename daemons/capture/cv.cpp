/*
 * OpenCV behind cv.h (see there).  Runs in alpr-captured.  Exceptions are
 * caught here and become -EIO; allocation failures -ENOMEM.
 */
#include "config.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "cv.h"

struct cvw_video {
	cv::VideoCapture cap;
	cv::Mat bgr;
	int width, height;
};

int
cvw_image_load_grey(const char *path, uint8_t **ret_pixels, int *ret_width, int *ret_height)
{
	try {
		cv::Mat m = cv::imread(path, cv::IMREAD_GRAYSCALE);
		size_t n;
		uint8_t *p;

		if (m.empty() || m.type() != CV_8UC1)
			return -EBADMSG;
		n = (size_t)m.cols * m.rows;
		if ((p = (uint8_t *)malloc(n)) == NULL)
			return -ENOMEM;
		for (int y = 0; y < m.rows; y++)
			memcpy(p + (size_t)y * m.cols, m.ptr(y), m.cols);
		*ret_pixels = p;
		*ret_width = m.cols;
		*ret_height = m.rows;
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return -EIO;
	}
}

int
cvw_video_open(const char *path, struct cvw_video **ret)
{
	struct cvw_video *v = NULL;

	try {
		v = new cvw_video();
		if (!v->cap.open(path)) {
			delete v;
			return -ENOENT;
		}
		v->width = (int)v->cap.get(cv::CAP_PROP_FRAME_WIDTH);
		v->height = (int)v->cap.get(cv::CAP_PROP_FRAME_HEIGHT);
		if (v->width <= 0 || v->height <= 0) {
			delete v;
			return -EBADMSG;
		}
		*ret = v;
		return 0;
	} catch (const std::bad_alloc &) {
		delete v;
		return -ENOMEM;
	} catch (...) {
		delete v;
		return -EIO;
	}
}

void
cvw_video_free(struct cvw_video *v)
{
	delete v;
}

void
cvw_video_size(const struct cvw_video *v, int *ret_width, int *ret_height)
{
	*ret_width = v->width;
	*ret_height = v->height;
}

int
cvw_video_read_grey(struct cvw_video *v, uint8_t *dst, int width, int height, int stride)
{
	try {
		cv::Mat out(height, width, CV_8UC1, dst, stride);

		if (!v->cap.read(v->bgr) || v->bgr.empty())
			return 0;
		if (v->bgr.cols != width || v->bgr.rows != height)
			return -EBADMSG;	/* the stream changed size */
		if (v->bgr.channels() == 3)
			cv::cvtColor(v->bgr, out, cv::COLOR_BGR2GRAY);
		else if (v->bgr.channels() == 1)
			v->bgr.copyTo(out);
		else
			return -EBADMSG;
		return 1;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return -EIO;
	}
}

int
cvw_video_rewind(struct cvw_video *v)
{
	try {
		if (v->cap.set(cv::CAP_PROP_POS_FRAMES, 0))
			return 0;
		return -EIO;
	} catch (...) {
		return -EIO;
	}
}

int
cvw_stats(const uint8_t *pixels, int width, int height, int stride, int max_width,
    double *ret_mean, double *ret_stddev, double *ret_sharpness)
{
	try {
		cv::Mat in(height, width, CV_8UC1, (void *)pixels, stride);
		cv::Mat small, lap;
		cv::Scalar mean, sd, lmean, lsd;

		if (width > max_width) {
			int h = (int)((double)height * max_width / width + 0.5);
			cv::resize(in, small, cv::Size(max_width, h > 0 ? h : 1), 0, 0,
			    cv::INTER_AREA);
		} else
			small = in;
		cv::meanStdDev(small, mean, sd);
		cv::Laplacian(small, lap, CV_16S, 1);
		cv::meanStdDev(lap, lmean, lsd);
		*ret_mean = mean[0];
		*ret_stddev = sd[0];
		*ret_sharpness = lsd[0] * lsd[0];
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return -EIO;
	}
}

int
cvw_encode(const uint8_t *pixels, int width, int height, int stride, const char *ext,
    uint8_t **ret_buf, size_t *ret_len)
{
	try {
		cv::Mat in(height, width, CV_8UC1, (void *)pixels, stride);
		std::vector<uchar> out;
		uint8_t *p;

		if (!cv::imencode(ext, in, out) || out.empty())
			return -EIO;
		if ((p = (uint8_t *)malloc(out.size())) == NULL)
			return -ENOMEM;
		memcpy(p, out.data(), out.size());
		*ret_buf = p;
		*ret_len = out.size();
		return 0;
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return -EIO;
	}
}
