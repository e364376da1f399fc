/*
 * recognize.cpp - the C API of the recognizer over the C++ stages.
 *
 * Every entry point is a fence: OpenCV throws cv::Exception (and
 * std::bad_alloc), and nothing may unwind into C callers, so each call
 * catches everything and maps it to -errno.  The caller's frame is only
 * read, never kept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <new>

#include <opencv2/core.hpp>

#include "internal.hpp"
#include "recognize.h"

struct rec_ctx {
	struct rec_options opt;
	rec::reader reader;
	rec::detector detector;
	rec::state_reader state;
	bool have_state;
};

extern "C" void
rec_options_init(struct rec_options *opt)
{
	if (!opt)
		return;
	memset(opt, 0, sizeof(*opt));
	opt->country = "us";
	opt->top_n = 10;
	opt->max_plates = 4;
	opt->detect_boxes = 5;
	opt->use_tesseract = 1;
}

extern "C" int
rec_new(const char *model_dir, const struct rec_options *opt,
	struct rec_ctx **ret_ctx)
{
	struct rec_options o;
	rec_ctx *ctx = NULL;
	int r;

	if (!model_dir || !ret_ctx)
		return -EINVAL;
	if (opt)
		o = *opt;
	else
		rec_options_init(&o);
	if (o.country && strcmp(o.country, "us") != 0)
		return -EOPNOTSUPP;
	if (o.top_n < 1 || o.top_n > REC_MAX_CANDIDATES ||
	    o.max_plates < 1 || o.max_plates > REC_MAX_PLATES ||
	    o.detect_boxes < 1 || o.detect_boxes > 40)
		return -EINVAL;
	o.country = "us";
	try {
		std::string dir(model_dir);

		ctx = new rec_ctx;
		ctx->opt = o;
		r = ctx->reader.load(dir);
		if (r < 0)
			goto fail;
		r = ctx->detector.load(dir);
		if (r < 0)
			goto fail;
		/* without Tesseract's eng data there is just no state guess */
		ctx->have_state = o.use_tesseract && ctx->state.load() >= 0;
	} catch (const std::bad_alloc &) {
		r = -ENOMEM;
		goto fail;
	} catch (...) {
		/* readNetFromONNX throws for a missing or corrupt file */
		r = -ENOENT;
		goto fail;
	}
	*ret_ctx = ctx;
	return 0;
fail:
	delete ctx;
	return r;
}

extern "C" void
rec_free(struct rec_ctx *ctx)
{
	delete ctx;
}

static void
fill_plate(struct rec_plate *p, const rec::plate_read &rd, const cv::Rect &box,
	   float det_score)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->text, sizeof(p->text), "%s", rd.cands[0].text.c_str());
	p->confidence = rd.cands[0].confidence;
	p->box[0] = box.x;
	p->box[1] = box.y;
	p->box[2] = box.width;
	p->box[3] = box.height;
	p->corners[0][0] = (float)box.x;
	p->corners[0][1] = (float)box.y;
	p->corners[1][0] = (float)(box.x + box.width);
	p->corners[1][1] = (float)box.y;
	p->corners[2][0] = (float)(box.x + box.width);
	p->corners[2][1] = (float)(box.y + box.height);
	p->corners[3][0] = (float)box.x;
	p->corners[3][1] = (float)(box.y + box.height);
	p->detection_score = det_score;
	for (const rec::read_candidate &c : rd.cands) {
		if (p->n_candidates >= REC_MAX_CANDIDATES)
			break;
		struct rec_candidate *rc = &p->candidates[p->n_candidates++];
		snprintf(rc->text, sizeof(rc->text), "%s", c.text.c_str());
		rc->confidence = c.confidence;
	}
}

/*
 * A box around the glyph row a read found in `grown` (a crop of the image):
 * centred on the row, hf glyph heights high, and mf glyph heights wider
 * than the glyphs but at least twice as wide as high; clipped to the
 * image.  Empty if the read kept no glyph.
 */
static cv::Rect
row_frame(const cv::Rect &grown, const rec::plate_read &rd, float hf, float mf,
	  const cv::Size &img)
{
	int x0 = INT32_MAX, x1 = 0;
	float rh = rd.bottom - rd.top;

	if (rd.boxes.empty() || rh < 1)
		return cv::Rect();
	for (const cv::Rect &b : rd.boxes) {
		x0 = std::min(x0, b.x);
		x1 = std::max(x1, b.x + b.width);
	}
	float cx = grown.x + (x0 + x1) / 2.0f;
	float cy = grown.y + (rd.top + rd.bottom) / 2.0f;
	float h = hf * rh;
	float w = std::max((float)(x1 - x0) + mf * rh, 2.0f * h);
	cv::Rect r((int)std::lround(cx - w / 2), (int)std::lround(cy - h / 2),
		   (int)std::lround(w), (int)std::lround(h));
	return r & cv::Rect(0, 0, img.width, img.height);
}

/*
 * The detector's box comes from a coarse pyramid of fixed 2:1 windows; the
 * glyph row read inside it gives a better one.  US plates are about twice
 * as high as their characters and twice as wide as high.
 */
static cv::Rect
refine(const cv::Rect &det, const cv::Rect &grown, const rec::plate_read &rd,
       const cv::Size &img)
{
	cv::Rect r = row_frame(grown, rd, 2.1f, 1.2f, img);

	/* a row far off the detector's box is not this plate's */
	if (r.empty() || (r & det).area() < 0.3 * r.area())
		return det;
	return r;
}

/* A detector box grown to the margin the reader was trained with. */
static cv::Rect
grow(const cv::Rect &b, const cv::Size &img)
{
	int mx = (int)(b.width * 0.12), my = (int)(b.height * 0.2);
	cv::Rect r(b.x - mx, b.y - my, b.width + 2 * mx, b.height + 2 * my);

	return r & cv::Rect(0, 0, img.width, img.height);
}

/*
 * The second read (run() below): the best REREAD_BOXES detector boxes after
 * the first read, on a crop RECROP_H glyph heights high, centred on the
 * row, with RECROP_M glyph heights of margin beside the glyphs.  Chosen on
 * split a of the development scenes (doc/benchmarks.md): 2.8 frames the
 * row as the first read's grown box does when the detector is on the
 * plate; 2.0-3.2 and margins 1.0-1.6 were tried.  One box, not two
 * (2026-12-05, split a: detection 87.9 -> 89.7%, top-1 62.1 -> 63.8%;
 * split b unchanged): the second best box's second read rarely won and
 * cost a sixth of a scene's reading time.
 */
enum { REREAD_BOXES = 1 };
static const float RECROP_H = 2.8f, RECROP_M = 1.6f;

/*
 * A scene's read whose best string is shorter than MIN_READ or longer
 * than MAX_READ characters is no plate.  Under 3: a scrap of text or a
 * stripe.  Over 10: no US plate is that long (the longest in the
 * development crops are 9- and 10-character vanity plates, 3 of 365; serial
 * formats stop at 8), but a grille, a fence or a row of window bars reads
 * as a long string of 1s and I and won a scene's first place over its
 * plate.  Crops (REC_CROP) keep their read: the caller says it is a plate.
 */
enum { MIN_READ = 3, MAX_READ = 10 };

static bool
plate_length(const rec::plate_read &rd)
{
	size_t n = rd.cands[0].text.size();

	return n >= MIN_READ && n <= MAX_READ;
}

/* The calling thread's CPU time in ms, for rec_result.stage_ms. */
static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Adds the time since *t to stage k and restarts *t. */
static void
stage_end(struct rec_result *res, int k, double *t)
{
	double now = cpu_ms();

	res->stage_ms[k] += (float)(now - *t);
	*t = now;
}

/*
 * The state of plate i of res, read by Tesseract; its time goes to the
 * state stage (what ran before it since *t to reading).
 */
static void
guess_state(rec_ctx *ctx, unsigned flags, const cv::Mat &plate,
	    const rec::plate_read &rd, struct rec_result *res, int i, double *t)
{
	struct rec_plate *p = &res->plates[i];
	std::string code;
	float conf;

	if (!ctx->have_state || (flags & REC_NO_STATE))
		return;
	stage_end(res, REC_STAGE_READ, t);
	if (ctx->state.guess(plate, rd.top, rd.bottom, code, conf)) {
		snprintf(p->state, sizeof(p->state), "%s", code.c_str());
		p->state_confidence = conf;
	}
	stage_end(res, REC_STAGE_STATE, t);
}

static int
run(rec_ctx *ctx, const cv::Mat &img, unsigned flags, struct rec_result *res)
{
	rec::plate_read rd;
	double t = cpu_ms();

	memset(res, 0, sizeof(*res));
	if (flags & REC_CROP) {
		if (ctx->reader.read(img, ctx->opt.top_n, rd)) {
			fill_plate(&res->plates[0], rd,
				   cv::Rect(0, 0, img.cols, img.rows), 0);
			guess_state(ctx, flags, img, rd, res, 0, &t);
			res->n_plates = 1;
		}
		stage_end(res, REC_STAGE_READ, &t);
		return 0;
	}

	std::vector<rec::det_box> boxes;
	struct scored {
		float score;
		rec::plate_read rd;
		rec::det_box det;
		cv::Rect grown;
	};
	std::vector<scored> reads;

	ctx->detector.detect(img, ctx->opt.detect_boxes, boxes);
	stage_end(res, REC_STAGE_DETECT, &t);
	for (const rec::det_box &d : boxes) {
		cv::Rect g = grow(d.box, img.size());
		if (g.width < 16 || g.height < 8)
			continue;
		if (!ctx->reader.read(img(g), ctx->opt.top_n, rd))
			continue;
		if (!plate_length(rd))
			continue;
		reads.push_back({ rd.best_score + 0.5f * d.score, rd, d, g });
	}
	std::stable_sort(reads.begin(), reads.end(),
			 [](const scored &a, const scored &b) {
				 return a.score > b.score;
			 });
	/*
	 * The detector's windows sit on a coarse grid, so the glyph row is
	 * often off-centre and the wrong height for the reader.  The best
	 * boxes get a second read on a crop centred on the row their first
	 * read found; the better of the two reads stays.
	 */
	for (size_t i = 0; i < reads.size() && i < REREAD_BOXES; i++) {
		scored &s = reads[i];
		cv::Rect c = row_frame(s.grown, s.rd, RECROP_H, RECROP_M, img.size());
		rec::plate_read rd2;

		if (c.width < 16 || c.height < 8 || c == s.grown)
			continue;
		if (!ctx->reader.read(img(c), ctx->opt.top_n, rd2) ||
		    !plate_length(rd2))
			continue;
		/* by the reader's own score (the top candidate's share of the
		 * candidates' mass compared worse on split a) */
		if (rd2.best_score > s.rd.best_score) {
			s.score += rd2.best_score - s.rd.best_score;
			s.rd = rd2;
			s.grown = c;
		}
	}
	std::stable_sort(reads.begin(), reads.end(),
			 [](const scored &a, const scored &b) {
				 return a.score > b.score;
			 });
	for (const scored &s : reads) {
		bool dup = false;
		for (int i = 0; i < res->n_plates; i++) {
			const int *b = res->plates[i].box;
			cv::Rect o(b[0], b[1], b[2], b[3]);
			if ((o & s.det.box).area() > 0)
				dup = true;
		}
		if (dup)
			continue;
		fill_plate(&res->plates[res->n_plates], s.rd,
			   refine(s.det.box, s.grown, s.rd, img.size()),
			   s.det.score);
		if (res->n_plates == 0)
			guess_state(ctx, flags, img(s.grown), s.rd, res, 0, &t);
		res->n_plates++;
		if (res->n_plates >= ctx->opt.max_plates)
			break;
	}
	stage_end(res, REC_STAGE_READ, &t);
	return 0;
}

extern "C" int
rec_run(struct rec_ctx *ctx, const uint8_t *grey, int width, int height,
	size_t stride, unsigned flags, struct rec_result *ret_result)
{
	struct rec_result *res;
	int r;

	if (!ctx || !grey || !ret_result || width <= 0 || height <= 0 ||
	    stride < (size_t)width)
		return -EINVAL;
	if (flags & ~(unsigned)(REC_CROP | REC_NO_STATE))
		return -EINVAL;
	if (width > REC_MAX_SIDE || height > REC_MAX_SIDE ||
	    (long)width * height > REC_MAX_PIXELS)
		return -E2BIG;
	if (width < 16 || height < 8) {
		/* too small to hold a readable plate: nothing found */
		memset(ret_result, 0, sizeof(*ret_result));
		return 0;
	}
	res = (struct rec_result *)malloc(sizeof(*res));
	if (!res)
		return -ENOMEM;
	try {
		cv::Mat img(height, width, CV_8UC1, (void *)grey, stride);
		r = run(ctx, img, flags, res);
	} catch (const std::bad_alloc &) {
		r = -ENOMEM;
	} catch (...) {
		r = -EIO;
	}
	if (r >= 0)
		memcpy(ret_result, res, sizeof(*res));
	free(res);
	return r;
}

extern "C" void
rec_global_set_threads(int n)
{
	try {
		cv::setNumThreads(n);
	} catch (...) {
	}
}
