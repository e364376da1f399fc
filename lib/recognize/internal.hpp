/*
 * internal.hpp - shared by the C++ files of lib/recognize (not installed).
 *
 * segment.cpp mirrors tools/train/plateseg.py constant for constant: the
 * glyph classifier was trained on windows cut exactly this way.
 */
#ifndef ALPR_RECOGNIZE_INTERNAL_HPP
#define ALPR_RECOGNIZE_INTERNAL_HPP

#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "recognize.h"

namespace rec {

enum { PLATE_H = 100, MAX_PLATE_W = 400, PATCH_W = 24, PATCH_H = 32 };
enum { NCHARS = 35, NOISE = 35, NCLASS = 36 };
extern const char CHARS[NCHARS + 1];	/* class index -> char, '0' is O too */

struct binarisation {
	int polarity;		/* 0: dark text on light */
	int block;		/* 0: Otsu, else adaptive mean block */
	int offset;
};

/* A box's centre column (and row), as the reader measures pitch and slope. */
static inline float centre_x(const cv::Rect &b) { return b.x + b.width / 2.0f; }
static inline float centre_y(const cv::Rect &b) { return b.y + b.height / 2.0f; }

struct row_hyp {
	int polarity;
	std::vector<cv::Rect> boxes;	/* left to right */
	float top, bottom;		/* median glyph top and bottom */
};

/* segment.cpp */
cv::Mat normalise_plate(const cv::Mat &grey);
std::vector<row_hyp> segment_plate(const cv::Mat &plate);
float row_slope(const std::vector<row_hyp> &hyps);
cv::Mat level_plate(const cv::Mat &plate, float slope);
void cut_patch(const cv::Mat &plate, int polarity, const cv::Rect &box,
	       float top, float bottom, cv::Mat &out);

/* glyphnet.cpp: the classifier's forward pass without cv::dnn */
class glyph_net {
public:
	/* takes the weights from net; false if it is not of the known shape */
	bool load(cv::dnn::Net &net);
	bool loaded() const { return ok; }
	/* patches: PATCH_H x PATCH_W CV_32F; logits: one row of NCLASS each */
	void forward(const std::vector<cv::Mat> &patches, cv::Mat &logits);
private:
	void forward_one(const float *x, float *logits);
	bool ok = false;
	std::vector<float> weights, buf;
	size_t o_w1, o_b1, o_w2, o_b2, o_w3, o_b3, o_w4, o_b4, o_w5, o_b5;
};

/* reader.cpp: a read of one plate image */
struct read_candidate {
	std::string text;
	float score;		/* log domain */
	float confidence;	/* 0..100 */
};

struct plate_read {
	std::vector<read_candidate> cands;	/* best first */
	float best_score;
	std::vector<cv::Rect> boxes;		/* glyphs of the best, plate coords */
	float top, bottom;
};

class reader {
public:
	int load(const std::string &model_dir);
	/* grey: the plate (any size); fills r, returns false if nothing read */
	bool read(const cv::Mat &grey, int top_n, plate_read &r);
private:
	cv::dnn::Net net;
	glyph_net fast;
};

/* syntax.cpp: US plate formats */
float syntax_bonus(const std::string &text);

/* state.cpp: Tesseract reads the state name and slogan */
class state_reader {
public:
	state_reader() = default;
	state_reader(const state_reader &) = delete;
	state_reader &operator=(const state_reader &) = delete;
	~state_reader();
	int load();
	/* grey: plate image; top/bottom: its character row */
	bool guess(const cv::Mat &grey, float top, float bottom,
		   std::string &code, float &conf);
private:
	std::string ocr(const cv::Mat &band);
	void *api = nullptr;
	int band_h = 32;	/* band height Tesseract reads at */
};

/* detect.cpp */
struct det_box {
	cv::Rect box;
	float score;
};

class detector {
public:
	int load(const std::string &model_dir);
	void detect(const cv::Mat &grey, int max_boxes, std::vector<det_box> &out);
	bool loaded() const { return ok; }
private:
	bool ok = false;
	cv::Mat w1;		/* stage 1: 3 channels x 5 x 10 cells */
	float b1 = 0;
	std::vector<float> w2;	/* stage 2: HOG weights */
	float b2 = 0;
	std::vector<float> scales;
	/*
	 * Scratch images kept from call to call: on this kind of machine
	 * (a PVM guest) the page faults of freshly allocated frame-sized
	 * buffers cost three times the detector's arithmetic.
	 */
	cv::Mat small, g, g2, mu, mu2, n, gx, gy, ch[3], lvb, rb, accb, mxb, patch;
	std::vector<float> desc;
};

}

#endif
