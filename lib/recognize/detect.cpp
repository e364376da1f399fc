/*
 * detect.cpp - two-stage plate detector.  Mirrors tools/train/detfeat.py.
 *
 * Stage 1: frame shrunk to 640 px wide, local contrast normalisation,
 * channels (grey, |dx|, |dy|) averaged over 2x2 cells, a pyramid of the
 * model's sizes, a linear 10x5-cell window scored by filter2D, local
 * maxima.
 * Stage 2: HOG of each box at 64x32 scored by logistic regression; the
 * final score is the sum of both.  Runs inside rec_run()'s fence.
 */
#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "internal.hpp"

namespace rec {

enum { WORK_W = 640, WIN_W = 10, WIN_H = 5, STAGE1_KEEP = 40 };

static cv::HOGDescriptor hog_desc()
{
	return cv::HOGDescriptor(cv::Size(64, 32), cv::Size(16, 16),
				 cv::Size(8, 8), cv::Size(8, 8), 9);
}

int
detector::load(const std::string &dir)
{
	cv::FileStorage fs(dir + "/detector.yml", cv::FileStorage::READ);
	cv::Mat sc, w2m;
	double d;

	if (!fs.isOpened())
		return -ENOENT;
	fs["w1"] >> w1;
	fs["b1"] >> d;
	b1 = (float)d;
	fs["w2"] >> w2m;
	fs["b2"] >> d;
	b2 = (float)d;
	fs["scales"] >> sc;
	if (w1.rows != 3 * WIN_H || w1.cols != WIN_W || w1.type() != CV_32F ||
	    sc.empty() || sc.type() != CV_32F || w2m.type() != CV_32F ||
	    (size_t)w2m.total() != hog_desc().getDescriptorSize())
		return -EINVAL;
	scales.assign((const float *)sc.data, (const float *)sc.data + sc.total());
	for (float s : scales)
		if (!(s > 0.01f && s <= 2.0f))	/* NaN too */
			return -EINVAL;
	w2.assign((const float *)w2m.data, (const float *)w2m.data + w2m.total());
	ok = true;
	return 0;
}

static float
iou(const cv::Rect2f &a, const cv::Rect2f &b)
{
	float i = (a & b).area();

	if (i <= 0)
		return 0;
	return i / (a.area() + b.area() - i);
}

struct cand {
	float score;
	cv::Rect2f box;
};

void
detector::detect(const cv::Mat &grey, int max_boxes, std::vector<det_box> &out)
{
	/* frames narrower than WORK_W are not enlarged: a plate filling half
	   of a small frame would outgrow the largest window */
	const int work_w = std::min((int)WORK_W, grey.cols);
	double f = (double)work_w / grey.cols;
	int h = std::max(16, (int)std::lround(grey.rows * f));

	out.clear();
	cv::resize(grey, small, cv::Size(work_w, h), 0, 0, cv::INTER_LINEAR);
	small.convertTo(g, CV_32F);
	cv::boxFilter(g, mu, -1, cv::Size(15, 15), cv::Point(-1, -1), true,
		      cv::BORDER_REPLICATE);
	cv::multiply(g, g, g2);
	cv::boxFilter(g2, mu2, -1, cv::Size(15, 15), cv::Point(-1, -1),
		      true, cv::BORDER_REPLICATE);
	/* one pass: matrix expressions cost ten times more here */
	n.create(g.size(), CV_32F);
	for (int y = 0; y < g.rows; y++) {
		const float *pg = g.ptr<float>(y), *pm = mu.ptr<float>(y);
		const float *pm2 = mu2.ptr<float>(y);
		float *pn = n.ptr<float>(y);
		for (int x = 0; x < g.cols; x++) {
			float v = pm2[x] - pm[x] * pm[x];
			pn[x] = (pg[x] - pm[x]) / (std::sqrt(v > 0 ? v : 0) + 10.0f);
		}
	}
	cv::Sobel(n, gx, CV_32F, 1, 0, 3);
	cv::Sobel(n, gy, CV_32F, 0, 1, 3);
	cv::absdiff(gx, cv::Scalar::all(0), gx);	/* in place */
	cv::absdiff(gy, cv::Scalar::all(0), gy);
	cv::Size cs(n.cols / 2, n.rows / 2);
	cv::resize(n, ch[0], cs, 0, 0, cv::INTER_AREA);
	cv::resize(gx, ch[1], cs, 0, 0, cv::INTER_AREA);
	cv::resize(gy, ch[2], cs, 0, 0, cv::INTER_AREA);

	/* each level in the top-left corner of buffers as large as the
	   largest level: no allocation from frame to frame */
	float smax = *std::max_element(scales.begin(), scales.end());
	cv::Size big((int)std::lround(cs.width * smax) + 1,
		     (int)std::lround(cs.height * smax) + 1);
	lvb.create(big, CV_32F);
	rb.create(big, CV_32F);
	accb.create(big, CV_32F);
	mxb.create(big, CV_32F);
	std::vector<cand> cands;
	for (float s : scales) {
		cv::Size sz(std::max(1, (int)std::lround(cs.width * s)),
			    std::max(1, (int)std::lround(cs.height * s)));
		if (sz.width < WIN_W || sz.height < WIN_H)
			continue;
		cv::Rect lr(0, 0, sz.width, sz.height);
		cv::Mat lv = lvb(lr), r = rb(lr), acc = accb(lr);
		for (int c = 0; c < 3; c++) {
			cv::resize(ch[c], lv, sz, 0, 0, cv::INTER_LINEAR);
			cv::filter2D(lv, c == 0 ? acc : r, CV_32F,
				     w1.rowRange(c * WIN_H, (c + 1) * WIN_H),
				     cv::Point(0, 0), 0, cv::BORDER_REPLICATE);
			if (c > 0)
				cv::add(acc, r, acc);
		}
		cv::add(acc, cv::Scalar::all(b1), acc);
		cv::Mat sm = acc(cv::Rect(0, 0, sz.width - WIN_W + 1,
					  sz.height - WIN_H + 1));
		cv::Mat mx = mxb(cv::Rect(0, 0, sm.cols, sm.rows));
		cv::dilate(sm, mx, cv::Mat::ones(3, 3, CV_8U));
		for (int y = 0; y < sm.rows; y++) {
			const float *p = sm.ptr<float>(y), *q = mx.ptr<float>(y);
			for (int x = 0; x < sm.cols; x++)
				if (p[x] >= q[x] && p[x] > -8.0f)
					cands.push_back({ p[x], cv::Rect2f(
						(float)(2 * x / s / f),
						(float)(2 * y / s / f),
						(float)(2 * WIN_W / s / f),
						(float)(2 * WIN_H / s / f)) });
		}
	}
	std::sort(cands.begin(), cands.end(),
		  [](const cand &a, const cand &b) { return a.score > b.score; });
	std::vector<cand> kept;
	for (const cand &c : cands) {
		bool dup = false;
		for (const cand &k : kept)
			if (iou(c.box, k.box) >= 0.5f) {
				dup = true;
				break;
			}
		if (!dup)
			kept.push_back(c);
		if (kept.size() >= STAGE1_KEEP)
			break;
	}

	/* stage 2 */
	cv::HOGDescriptor hog = hog_desc();
	for (cand &c : kept) {
		cv::Point2f src[3] = { { c.box.x, c.box.y },
				       { c.box.x + c.box.width, c.box.y },
				       { c.box.x, c.box.y + c.box.height } };
		cv::Point2f dst[3] = { { 0, 0 }, { 64, 0 }, { 0, 32 } };
		cv::Mat M = cv::getAffineTransform(src, dst);
		cv::warpAffine(grey, patch, M, cv::Size(64, 32), cv::INTER_LINEAR,
			       cv::BORDER_REPLICATE);
		hog.compute(patch, desc);
		float v = b2;
		for (size_t i = 0; i < desc.size() && i < w2.size(); i++)
			v += desc[i] * w2[i];
		c.score += v;
	}
	std::sort(kept.begin(), kept.end(),
		  [](const cand &a, const cand &b) { return a.score > b.score; });
	for (const cand &c : kept) {
		bool dup = false;
		for (const det_box &o : out)
			if (iou(c.box, cv::Rect2f(o.box)) >= 0.3f) {
				dup = true;
				break;
			}
		if (dup)
			continue;
		cv::Rect r((int)std::floor(c.box.x), (int)std::floor(c.box.y),
			   (int)std::ceil(c.box.width), (int)std::ceil(c.box.height));
		r &= cv::Rect(0, 0, grey.cols, grey.rows);
		if (r.width < 8 || r.height < 4)
			continue;
		out.push_back({ r, c.score });
		if ((int)out.size() >= max_boxes)
			break;
	}
}

}
