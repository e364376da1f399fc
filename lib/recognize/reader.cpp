/*
 * reader.cpp - read the characters of one plate image.
 *
 * Recognition-driven segmentation: every binarisation proposes a row of
 * glyph boxes; the glyph classifier (with a noise class) scores each box;
 * a small beam over each row keeps every box as its likely characters or
 * drops it as noise; rows vote for strings, which get a length prior and
 * the US format prior.  Runs inside rec_run()'s exception fence.
 */
#include <algorithm>
#include <cmath>
#include <map>

#include <opencv2/imgproc.hpp>

#include "internal.hpp"

namespace rec {

const char CHARS[NCHARS + 1] = "0123456789ABCDEFGHIJKLMNPQRSTUVWXYZ";

enum { BEAM = 24, ALTS = 3 };
static const float CHAR_REWARD = 1.0f;	/* per glyph kept: counters sum bias */
static const float LEN_WEIGHT = 0.5f;
static const float VOTE_WEIGHT = 0.3f;

/* share of plate lengths on US plates (development crops, rounded) */
static float
length_prior(size_t n)
{
	static const float p[] = { 0.001f, 0.002f, 0.005f, 0.01f, 0.035f,
				   0.10f, 0.55f, 0.28f, 0.02f };

	return std::log((n < 9 ? p[n] : 0.002f) / 0.55f);
}

int
reader::load(const std::string &dir)
{
	net = cv::dnn::readNetFromONNX(dir + "/glyph-cnn.onnx");
	if (net.empty())
		return -EINVAL;
	net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
	net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
	return 0;
}

struct beam_item {
	std::string text;
	float score;
	std::vector<int> kept;		/* box indices kept as characters */
};

bool
reader::read(const cv::Mat &grey, int top_n, plate_read &r)
{
	cv::Mat plate = normalise_plate(grey);
	std::vector<row_hyp> hyps = segment_plate(plate);
	std::map<std::tuple<int, int, int, int, int, int, int>, int> uniq;
	std::vector<std::vector<int>> idx(hyps.size());
	std::vector<cv::Mat> patches;

	if (hyps.empty())
		return false;
	/* classify each distinct window once */
	for (size_t h = 0; h < hyps.size(); h++)
		for (const cv::Rect &b : hyps[h].boxes) {
			auto key = std::make_tuple(hyps[h].polarity, b.x, b.y,
						   b.width, b.height,
						   (int)hyps[h].top,
						   (int)hyps[h].bottom);
			auto it = uniq.find(key);
			if (it == uniq.end()) {
				cv::Mat p;
				cut_patch(plate, hyps[h].polarity, b, hyps[h].top,
					  hyps[h].bottom, p);
				it = uniq.emplace(key, (int)patches.size()).first;
				patches.push_back(p);
			}
			idx[h].push_back(it->second);
		}
	cv::Mat blob = cv::dnn::blobFromImages(patches);
	net.setInput(blob);
	cv::Mat logits = net.forward().reshape(1, (int)patches.size());
	cv::Mat logp(logits.size(), CV_32F);
	for (int i = 0; i < logits.rows; i++) {
		const float *l = logits.ptr<float>(i);
		float *o = logp.ptr<float>(i);
		float mx = *std::max_element(l, l + NCLASS), s = 0;
		for (int k = 0; k < NCLASS; k++)
			s += std::exp(l[k] - mx);
		for (int k = 0; k < NCLASS; k++)
			o[k] = l[k] - mx - std::log(s);
	}

	struct agg {
		float score = -1e30f;
		int votes = 0;
		int hyp = -1;
		std::vector<int> kept;
	};
	std::map<std::string, agg> strings;

	for (size_t h = 0; h < hyps.size(); h++) {
		std::vector<beam_item> beam(1);
		beam[0].score = 0;
		for (size_t j = 0; j < idx[h].size(); j++) {
			const float *lp = logp.ptr<float>(idx[h][j]);
			int order[NCHARS];
			std::vector<beam_item> next;

			for (int k = 0; k < NCHARS; k++)
				order[k] = k;
			std::partial_sort(order, order + ALTS, order + NCHARS,
					  [lp](int a, int b) { return lp[a] > lp[b]; });
			for (const beam_item &bi : beam) {
				beam_item n = bi;
				n.score += lp[NOISE];
				next.push_back(n);
				for (int a = 0; a < ALTS; a++) {
					beam_item c = bi;
					c.text += CHARS[order[a]];
					c.score += lp[order[a]] + CHAR_REWARD;
					c.kept.push_back((int)j);
					next.push_back(std::move(c));
				}
			}
			std::sort(next.begin(), next.end(),
				  [](const beam_item &a, const beam_item &b) {
					  return a.score > b.score;
				  });
			if (next.size() > BEAM)
				next.resize(BEAM);
			beam.swap(next);
		}
		for (beam_item &bi : beam) {
			std::string fixed;
			float s;

			if (bi.text.empty())
				continue;
			s = bi.score + syntax_bonus(bi.text, &fixed) +
			    LEN_WEIGHT * length_prior(bi.text.size());
			agg &a = strings[fixed];
			a.votes++;
			if (s > a.score) {
				a.score = s;
				a.hyp = (int)h;
				a.kept = bi.kept;
			}
		}
	}
	if (strings.empty())
		return false;

	std::vector<std::pair<float, const std::string *>> ranked;
	for (auto &kv : strings) {
		kv.second.score += VOTE_WEIGHT * std::log((float)kv.second.votes);
		ranked.push_back({ kv.second.score, &kv.first });
	}
	std::sort(ranked.begin(), ranked.end(),
		  [](const std::pair<float, const std::string *> &a,
		     const std::pair<float, const std::string *> &b) {
			  return a.first > b.first;
		  });
	float mx = ranked[0].first, z = 0;
	for (auto &p : ranked)
		z += std::exp(p.first - mx);
	r.cands.clear();
	for (size_t i = 0; i < ranked.size() && (int)i < top_n; i++) {
		read_candidate c;
		c.text = *ranked[i].second;
		c.score = ranked[i].first;
		c.confidence = 100.0f * std::exp(ranked[i].first - mx) / z;
		r.cands.push_back(c);
	}
	r.best_score = mx;
	const agg &best = strings[*ranked[0].second];
	const row_hyp &bh = hyps[best.hyp];
	double s = (double)grey.rows / PLATE_H;
	r.boxes.clear();
	for (int k : best.kept) {
		const cv::Rect &b = bh.boxes[k];
		r.boxes.push_back(cv::Rect((int)(b.x * s), (int)(b.y * s),
					   (int)std::ceil(b.width * s),
					   (int)std::ceil(b.height * s)));
	}
	r.top = (float)(bh.top * s);
	r.bottom = (float)(bh.bottom * s);
	return true;
}

}
