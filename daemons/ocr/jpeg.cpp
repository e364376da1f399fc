/*
 * JPEG encoding for alpr-ocrd's reads (main process): the box shrunk with
 * OpenCV's imgproc, encoded by lib/image (libjpeg; OpenCV's imgcodecs would
 * load ~55 MB of libraries into every ocrd process, lib/image/jpeg.h).
 * Input: a region of a grey frame already checked by frames.c and a box
 * inside it (tracker.c); the pixels are encoded, never interpreted.  No C++
 * exception leaves this file.
 */
#include <cerrno>
#include <cstdlib>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "image/jpeg.h"
extern "C" {
#include "ocrd.h"
}

extern "C" int
ocr_jpeg_encode(const uint8_t *grey, int width, int height, size_t stride, const int box[4],
    int max_side, int quality, uint8_t **ret, size_t *ret_len)
{
	if (grey == nullptr || box[0] < 0 || box[1] < 0 || box[2] <= 0 || box[3] <= 0 ||
	    box[0] > width - box[2] || box[1] > height - box[3])
		return -EINVAL;
	try {
		cv::Mat frame(height, width, CV_8UC1, const_cast<uint8_t *>(grey), stride);
		cv::Mat roi = frame(cv::Rect(box[0], box[1], box[2], box[3])), out = roi;
		int side = box[2] > box[3] ? box[2] : box[3];

		if (max_side > 0 && side > max_side)
			cv::resize(roi, out, cv::Size(), (double)max_side / side,
			    (double)max_side / side, cv::INTER_AREA);
		return image_jpeg_encode(out.ptr(), out.cols, out.rows, out.step, quality, ret,
		    ret_len);
	} catch (const std::bad_alloc &) {
		return -ENOMEM;
	} catch (...) {
		return -EIO;
	}
}
