/*
 * segment.cpp - character rows of a plate image, one hypothesis per
 * binarisation.  Mirrors tools/train/plateseg.py (keep them in step).
 */
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include <opencv2/imgproc.hpp>

#include "internal.hpp"

namespace rec {

/*
 * Runs longer than this share of the plate image's height are cut from a
 * second try at a dark-text binarisation (segment_plate()).  Chosen on
 * split a of the development scenes (0.25-0.5 tried; 2026-12-06).
 */
static const double RUN_CUT = 0.3;

static const binarisation BINS[] = {
	{ 0, 0, 0 }, { 0, 15, 2 }, { 0, 15, 8 }, { 0, 31, 2 }, { 0, 31, 8 },
	{ 0, 51, 2 }, { 0, 51, 8 },
	{ 1, 0, 0 }, { 1, 15, 2 }, { 1, 15, 8 }, { 1, 31, 2 }, { 1, 31, 8 },
	{ 1, 51, 2 }, { 1, 51, 8 },
};

cv::Mat
normalise_plate(const cv::Mat &grey)
{
	double s = (double)PLATE_H / grey.rows;
	int nw = (int)std::lround(grey.cols * s);
	cv::Mat out;

	nw = std::max(8, std::min((int)MAX_PLATE_W, nw));
	cv::resize(grey, out, cv::Size(nw, PLATE_H), 0, 0,
		   s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
	return out;
}

/*
 * cv::adaptiveThreshold(src, bw, 255, ADAPTIVE_THRESH_MEAN_C,
 * THRESH_BINARY_INV, block, offset) with the local mean kept in *mean:
 * the binarisations of one polarity and block size differ only in their
 * offset, so the box filter runs once for both (same mean, same rounding,
 * same test: src - mean <= -offset).
 */
static void
binarise(const cv::Mat &img, const cv::Mat &inv, const binarisation &b,
	 cv::Mat &mean, int *mean_key, cv::Mat &bw)
{
	const cv::Mat &src = b.polarity ? inv : img;

	if (b.block == 0) {
		cv::threshold(src, bw, 0, 255,
			      cv::THRESH_BINARY_INV | cv::THRESH_OTSU);
		return;
	}
	int key = b.polarity * 1000 + b.block;
	if (*mean_key != key) {
		cv::boxFilter(src, mean, src.type(), cv::Size(b.block, b.block),
			      cv::Point(-1, -1), true,
			      cv::BORDER_REPLICATE | cv::BORDER_ISOLATED);
		*mean_key = key;
	}
	bw.create(src.size(), CV_8U);
	for (int y = 0; y < src.rows; y++) {
		const uint8_t *ps = src.ptr<uint8_t>(y), *pm = mean.ptr<uint8_t>(y);
		uint8_t *pb = bw.ptr<uint8_t>(y);
		for (int x = 0; x < src.cols; x++)
			pb[x] = (int)ps[x] - (int)pm[x] <= -b.offset ? 255 : 0;
	}
}

/*
 * 8-connected components of bw (non-zero = text) as boxes with their pixel
 * counts, in the raster order of their first pixel, leaving out horizontal
 * runs longer than max_run.  scan_runs() finds the runs of each row once
 * (and returns the longest); components() joins the runs of each row to
 * the runs they touch in the row above (union-find over runs), so the
 * second try without long runs (segment_plate()) does not scan again.
 * cv::connectedComponentsWithStats gives the same boxes (with no run left
 * out) but writes a label image and took a fifth of a scene's CPU time
 * (14 binarisations a read).
 */
struct run_set {
	std::vector<int> sx0, sx1, row;		/* every run: [sx0, sx1]; row y's
						   are row[y] .. row[y + 1] - 1 */
	std::vector<int> parent, rx0, rx1;	/* runs kept: [rx0, rx1] */
	std::vector<int> x0, x1, y0, y1, area;	/* components, at roots */

	int find(int i)
	{
		while (parent[i] != i) {
			parent[i] = parent[parent[i]];
			i = parent[i];
		}
		return i;
	}
	void join(int a, int b)
	{
		a = find(a);
		b = find(b);
		if (a == b)
			return;
		if (b < a)
			std::swap(a, b);
		parent[b] = a;	/* the older run stays the root */
		x0[a] = std::min(x0[a], x0[b]);
		x1[a] = std::max(x1[a], x1[b]);
		y0[a] = std::min(y0[a], y0[b]);
		y1[a] = std::max(y1[a], y1[b]);
		area[a] += area[b];
	}
};

/*
 * The first x' >= x of p[0 .. W) that is zero (zero set: non-zero), or W.
 * Eight bytes at a time: a word of the wanted kind is skipped whole, and
 * in the other the first byte that ends the span is found by its bit.
 */
static inline int
span_end(const uint8_t *p, int x, int W, bool zero)
{
	static const uint64_t ONES = 0x0101010101010101ull;
	static const uint64_t HIGH = 0x8080808080808080ull;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (; x + 8 <= W; x += 8) {
		uint64_t w, hit;

		memcpy(&w, p + x, sizeof(w));
		/* zero: the bytes that are not; else the zero bytes (exact
		   for the lowest one, which is all that is used) */
		hit = zero ? w : (w - ONES) & ~w & HIGH;
		if (hit)
			return x + (__builtin_ctzll(hit) >> 3);
	}
#endif
	while (x < W && (p[x] == 0) == zero)
		x++;
	return x;
}

static int
scan_runs(const cv::Mat &bw, run_set &rs)
{
	int H = bw.rows, W = bw.cols, longest = 0;

	rs.sx0.clear();
	rs.sx1.clear();
	rs.row.clear();
	for (int y = 0; y < H; y++) {
		const uint8_t *p = bw.ptr<uint8_t>(y);

		rs.row.push_back((int)rs.sx0.size());
		for (int x = span_end(p, 0, W, true); x < W;
		     x = span_end(p, x, W, true)) {
			int a = x;

			x = span_end(p, x, W, false);
			longest = std::max(longest, x - a);
			rs.sx0.push_back(a);
			rs.sx1.push_back(x - 1);
		}
	}
	rs.row.push_back((int)rs.sx0.size());
	return longest;
}

static void
components(run_set &rs, int H, int max_run, std::vector<cv::Rect> &out)
{
	std::vector<int> &parent = rs.parent;
	int prev_begin = 0, prev_end = 0;

	out.clear();
	parent.clear();
	rs.rx0.clear();
	rs.rx1.clear();
	rs.x0.clear();
	rs.x1.clear();
	rs.y0.clear();
	rs.y1.clear();
	rs.area.clear();
	for (int y = 0; y < H; y++) {
		int begin = (int)parent.size(), k = prev_begin;

		for (int r = rs.row[y]; r < rs.row[y + 1]; r++) {
			int a = rs.sx0[r], x = rs.sx1[r] + 1;

			if (x - a > max_run)
				continue;
			int id = (int)parent.size();
			parent.push_back(id);
			rs.rx0.push_back(a);
			rs.rx1.push_back(x - 1);
			rs.x0.push_back(a);
			rs.x1.push_back(x - 1);
			rs.y0.push_back(y);
			rs.y1.push_back(y);
			rs.area.push_back(x - a);
			/* runs above touching [a-1, x] (8-connected); the
			   previous row's runs are in order and consecutive */
			while (k < prev_end && rs.rx1[k] < a - 1)
				k++;
			for (int j = k; j < prev_end && rs.rx0[j] <= x; j++)
				rs.join(j, id);
		}
		prev_begin = begin;
		prev_end = (int)parent.size();
	}
	for (int i = 0; i < (int)parent.size(); i++) {
		if (rs.find(i) != i)
			continue;
		int x = rs.x0[i], y = rs.y0[i];
		int w = rs.x1[i] - x + 1, h = rs.y1[i] - y + 1, a = rs.area[i];

		if (h < 0.2 * H || h > 0.85 * H)
			continue;
		if (w < 2 || w > 1.6 * h)
			continue;
		if (a < 0.12 * w * h)
			continue;
		out.push_back(cv::Rect(x, y, w, h));
	}
}

static std::vector<cv::Rect>
group_row(const std::vector<cv::Rect> &ccs)
{
	std::vector<cv::Rect> best;
	size_t best_n = 0;
	long best_sum = 0;

	for (const cv::Rect &c : ccs) {
		double cy = c.y + c.height / 2.0;
		std::vector<cv::Rect> mem;
		long sum = 0;

		for (const cv::Rect &d : ccs)
			if (std::abs(d.height - c.height) <= 0.2 * c.height &&
			    std::fabs(d.y + d.height / 2.0 - cy) <=
			    0.25 * c.height) {
				mem.push_back(d);
				sum += d.height;
			}
		if (mem.size() > best_n ||
		    (mem.size() == best_n && sum > best_sum)) {
			best_n = mem.size();
			best_sum = sum;
			best = mem;
		}
	}
	std::stable_sort(best.begin(), best.end(),
			 [](const cv::Rect &a, const cv::Rect &b) {
				 return a.x < b.x;
			 });
	return best;
}

static float
median(std::vector<float> v)
{
	size_t n = v.size();

	std::sort(v.begin(), v.end());
	if (n % 2)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2]) / 2.0f;
}

static std::vector<cv::Rect>
split_wide(const std::vector<cv::Rect> &row, const cv::Mat &bw)
{
	std::vector<cv::Rect> out;
	std::vector<float> hs;

	for (const cv::Rect &c : row)
		hs.push_back((float)c.height);
	float rh = median(hs);
	for (const cv::Rect &c : row) {
		if (c.width <= 0.85 * rh) {
			out.push_back(c);
			continue;
		}
		int k = std::max(2, (int)std::lround(c.width / (0.6 * rh)));
		std::vector<int> prof(c.width, 0);
		for (int y = c.y; y < c.y + c.height; y++) {
			const uint8_t *p = bw.ptr<uint8_t>(y) + c.x;
			for (int x = 0; x < c.width; x++)
				prof[x] += p[x] > 0;
		}
		std::vector<int> cuts = { 0 };
		for (int i = 1; i < k; i++) {
			int cc = (int)std::lround(i * c.width / (double)k);
			int lo = std::max(cuts.back() + 1,
					  cc - (int)(0.15 * c.width / k) - 1);
			int hi = std::min(c.width - 1,
					  cc + (int)(0.15 * c.width / k) + 1);
			if (hi > lo)
				cc = (int)(std::min_element(prof.begin() + lo,
							    prof.begin() + hi) -
					   prof.begin());
			cuts.push_back(cc);
		}
		cuts.push_back(c.width);
		for (int i = 0; i < k; i++) {
			int a = cuts[i], b = cuts[i + 1];
			if (b - a >= 2)
				out.push_back(cv::Rect(c.x + a, c.y, b - a,
						       c.height));
		}
	}
	return out;
}

static std::vector<cv::Rect>
merge_overlapping(const std::vector<cv::Rect> &row)
{
	std::vector<cv::Rect> out;

	for (const cv::Rect &c : row) {
		if (!out.empty()) {
			cv::Rect &p = out.back();
			int ov = std::min(p.x + p.width, c.x + c.width) -
				 std::max(p.x, c.x);
			if (ov > 0.6 * std::min(p.width, c.width)) {
				p = p | c;
				continue;
			}
		}
		out.push_back(c);
	}
	return out;
}

std::vector<row_hyp>
segment_plate(const cv::Mat &img)
{
	std::vector<row_hyp> hyps;
	std::vector<cv::Rect> ccs;
	cv::Mat inv = 255 - img, bw, mean;
	int mean_key = -1;
	static thread_local run_set rs;

	for (const binarisation &b : BINS) {
		binarise(img, inv, b, mean, &mean_key, bw);
		int longest = scan_runs(bw, rs);
		components(rs, bw.rows, bw.cols, ccs);
		std::vector<cv::Rect> row = group_row(ccs);
		/*
		 * Dark glyphs touching a dark rim, a dealer frame's band or a
		 * bolt bar join them into one component too tall or too wide
		 * to be a glyph.  The same binarisation without its long
		 * horizontal runs (a band's rows; no glyph stroke is that
		 * long) separates them again; its row stays if it is longer.
		 * Not for light-on-dark: there the background between the
		 * glyphs is what is left, and it forms rows of its own.
		 */
		int max_run = (int)(RUN_CUT * bw.rows);
		if (b.polarity == 0 && longest > max_run) {
			components(rs, bw.rows, max_run, ccs);
			std::vector<cv::Rect> row2 = group_row(ccs);
			if (row2.size() > row.size())
				row.swap(row2);
		}
		if (row.size() < 2)
			continue;
		row = merge_overlapping(split_wide(row, bw));
		row_hyp h;
		std::vector<float> tops, bots;
		for (const cv::Rect &c : row) {
			tops.push_back((float)c.y);
			bots.push_back((float)(c.y + c.height));
		}
		h.polarity = b.polarity;
		h.boxes = row;
		h.top = median(tops);
		h.bottom = median(bots);
		hyps.push_back(std::move(h));
	}
	return hyps;
}

/*
 * The slope (dy/dx) of the character row: the median over the rows of 3
 * or more glyphs of each one's median slope between two of its glyph
 * centres (Theil-Sen: a symbol or a sticker beside the characters, in
 * the row but off its line, does not tilt it).  group_row() joins glyphs
 * whose centres lie within a quarter of a glyph height of one another, so
 * on a tilted plate each row holds a run of neighbours only, but that
 * run has the slope of the whole row.
 */
float
row_slope(const std::vector<row_hyp> &hyps)
{
	std::vector<float> slopes, pair;

	for (const row_hyp &h : hyps) {
		const std::vector<cv::Rect> &b = h.boxes;

		if (b.size() < 3)
			continue;
		pair.clear();
		for (size_t i = 0; i < b.size(); i++)
			for (size_t j = i + 1; j < b.size(); j++) {
				float dx = centre_x(b[j]) - centre_x(b[i]);
				float dy = centre_y(b[j]) - centre_y(b[i]);
				if (dx >= 1)
					pair.push_back(dy / dx);
			}
		if (!pair.empty())
			slopes.push_back(median(pair));
	}
	if (slopes.empty())
		return 0;
	return median(slopes);
}

/*
 * img with each column moved up by slope x its distance from the centre
 * column: a row of that slope comes out level, the glyphs' vertical
 * strokes stay vertical (a plate seen from one side leans this way; a
 * rolled camera nearly so for the small angles that matter).
 */
cv::Mat
level_plate(const cv::Mat &img, float slope)
{
	cv::Mat M = (cv::Mat_<double>(2, 3) << 1, 0, 0,
		     -slope, 1, slope * img.cols / 2.0);
	cv::Mat out;

	cv::warpAffine(img, out, M, img.size(), cv::INTER_LINEAR,
		       cv::BORDER_REPLICATE);
	return out;
}

void
cut_patch(const cv::Mat &img, int polarity, const cv::Rect &box, float top,
	  float bottom, cv::Mat &out)
{
	double rh = std::max(4.0, (double)bottom - top);
	double cx = box.x + box.width / 2.0;
	double cy = (top + bottom) / 2.0;
	double wh = 1.2 * rh;
	double ww = wh * PATCH_W / PATCH_H;
	double sx = PATCH_W / ww, sy = PATCH_H / wh;
	cv::Mat M = (cv::Mat_<double>(2, 3) <<
		     sx, 0, PATCH_W / 2.0 - cx * sx,
		     0, sy, PATCH_H / 2.0 - cy * sy);
	cv::Mat p;

	cv::warpAffine(img, p, M, cv::Size(PATCH_W, PATCH_H), cv::INTER_LINEAR,
		       cv::BORDER_REPLICATE);
	p.convertTo(out, CV_32F);
	if (polarity)
		out = 255.0f - out;
	cv::Scalar m, s;
	cv::meanStdDev(out, m, s);
	out = (out - m[0]) / (s[0] + 8.0);
}

}
