/*
 * glyphnet.cpp - the glyph classifier's forward pass on one core.
 *
 * cv::dnn runs the classifier (tools/train/train_glyphs.py's GlyphNet:
 * three 3x3 convolutions with ReLU and 2x2 max pooling, then two fully
 * connected layers) at about 0.15 ms a window on one core, and a scene
 * sends some 130 windows through it: over a third of the recognizer's
 * time.  This pass does the same arithmetic with the weights cv::dnn
 * loaded from the ONNX file, channels innermost so each multiply-add
 * covers 16 output channels, compiled for AVX-512 and used only on CPUs
 * that have it (cv::dnn runs elsewhere, e.g. under valgrind, which hides
 * AVX-512).  Only the summation order differs from cv::dnn
 * (logits agree to about 1e-5); load() checks that on test windows and
 * leaves the net to cv::dnn when the model is of any other shape.
 */
#include <cmath>
#include <cstring>

#include <opencv2/dnn/all_layers.hpp>

#include "internal.hpp"

namespace rec {

/*
 * The vectors never cross a call: everything below is inlined into
 * forward_one(), so the ABI note on 64-byte vectors is moot.
 */
#pragma GCC diagnostic ignored "-Wpsabi"

namespace {

typedef float v16 __attribute__((vector_size(64)));

inline __attribute__((always_inline)) v16
load16(const float *p)
{
	v16 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

inline __attribute__((always_inline)) void
store16(float *p, v16 v)
{
	memcpy(p, &v, sizeof(v));
}

/*
 * out (H x W x COUT) = relu(conv3x3(in) + bias); in is (H+2) x (W+2) x CIN
 * with a zero border; w is [ky][kx][ci][COUT], bias [COUT]; W a multiple
 * of PX.  PX pixels times COUT / 16 vectors of sums stay in registers.
 */
template <int CIN, int COUT, int PX>
inline __attribute__((always_inline)) void
conv3(const float *in, int H, int W, const float *w, const float *bias,
      float *out)
{
	constexpr int NV = COUT / 16;
	const int stride = (W + 2) * CIN;

	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x += PX) {	/* PX pixels at a time */
			v16 a[PX][NV];

#pragma GCC unroll 16
			for (int v = 0; v < NV; v++)
#pragma GCC unroll 16
				for (int q = 0; q < PX; q++)
					a[q][v] = load16(bias + 16 * v);
			for (int ky = 0; ky < 3; ky++) {
				const float *p = in + (y + ky) * stride + x * CIN;
				const float *wk = w + ky * 3 * CIN * COUT;

				for (int k = 0; k < 3 * CIN; k++)
#pragma GCC unroll 16
					for (int v = 0; v < NV; v++) {
						v16 wv = load16(wk + k * COUT + 16 * v);

#pragma GCC unroll 16
						for (int q = 0; q < PX; q++)
							a[q][v] += p[k + q * CIN] * wv;
					}
			}
			float *o = out + (y * W + x) * COUT;
#pragma GCC unroll 16
			for (int q = 0; q < PX; q++)
#pragma GCC unroll 16
				for (int v = 0; v < NV; v++)
					store16(o + q * COUT + 16 * v,
						a[q][v] > 0 ? a[q][v] : 0);
		}
}

/* 2x2 max pooling of in (H x W x C) into out, whose rows are ostride
   floats apart (a border of pad pixels around the result) */
template <int C>
inline __attribute__((always_inline)) void
pool2(const float *in, int H, int W, float *out, int pad)
{
	const int ow = W / 2 + 2 * pad;

	for (int y = 0; y < H / 2; y++)
		for (int x = 0; x < W / 2; x++) {
			const float *p = in + (2 * y * W + 2 * x) * C;
			float *o = out + ((y + pad) * ow + x + pad) * C;

#pragma GCC unroll 16
			for (int v = 0; v < C / 16; v++) {
				v16 a = load16(p + 16 * v), b = load16(p + C + 16 * v);
				v16 c = load16(p + W * C + 16 * v);
				v16 d = load16(p + W * C + C + 16 * v);
				a = a > b ? a : b;
				c = c > d ? c : d;
				store16(o + 16 * v, a > c ? a : c);
			}
		}
}


/* out (NOUT) = bias + in (NIN) x w ([NIN][NOUT]), through a ReLU if RELU. */
template <int NIN, int NOUT, bool RELU>
inline __attribute__((always_inline)) void
fc(const float *in, const float *w, const float *bias, float *out)
{
	v16 a[NOUT / 16];

#pragma GCC unroll 16
	for (int v = 0; v < NOUT / 16; v++)
		a[v] = load16(bias + 16 * v);
	for (int i = 0; i < NIN; i++) {
		float s = in[i];
		const float *wi = w + i * NOUT;

#pragma GCC unroll 16
		for (int v = 0; v < NOUT / 16; v++)
			a[v] += s * load16(wi + 16 * v);
	}
#pragma GCC unroll 16
	for (int v = 0; v < NOUT / 16; v++) {
		if constexpr (RELU)
			a[v] = a[v] > 0 ? a[v] : 0;
		store16(out + 16 * v, a[v]);
	}
}
}

enum { C1 = 16, C2 = 32, C3 = 64, F1 = 128, F2P = 48 };
enum { H0 = PATCH_H, W0 = PATCH_W };

/*
 * One window: x is PATCH_H x PATCH_W floats, logits NCLASS floats.  For
 * AVX-512 only (load() checks the CPU): its 32 vector registers hold the
 * sums the blocks above keep; compiled for AVX2 or SSE they spill, and
 * this pass ran five to ten times slower than cv::dnn.
 */
__attribute__((target("avx512f,fma")))
void
glyph_net::forward_one(const float *x, float *logits)
{
	float *in0 = buf.data();			/* (H0+2) x (W0+2) x 1 */
	float *c1 = in0 + (H0 + 2) * (W0 + 2);		/* H0 x W0 x C1 */
	float *in1 = c1 + H0 * W0 * C1;			/* padded H0/2 x W0/2 x C1 */
	float *c2 = in1 + (H0 / 2 + 2) * (W0 / 2 + 2) * C1;
	float *in2 = c2 + (H0 / 2) * (W0 / 2) * C2;
	float *c3 = in2 + (H0 / 4 + 2) * (W0 / 4 + 2) * C2;
	float *p3 = c3 + (H0 / 4) * (W0 / 4) * C3;	/* H0/8 x W0/8 x C3 */
	float *h = p3 + (H0 / 8) * (W0 / 8) * C3;	/* F1 */
	const float *w = weights.data();

	for (int y = 0; y < H0; y++)
		memcpy(in0 + (y + 1) * (W0 + 2) + 1, x + y * W0, W0 * sizeof(float));
	conv3<1, C1, 4>(in0, H0, W0, w + o_w1, w + o_b1, c1);
	pool2<C1>(c1, H0, W0, in1, 1);
	conv3<C1, C2, 6>(in1, H0 / 2, W0 / 2, w + o_w2, w + o_b2, c2);
	pool2<C2>(c2, H0 / 2, W0 / 2, in2, 1);
	conv3<C2, C3, 6>(in2, H0 / 4, W0 / 4, w + o_w3, w + o_b3, c3);
	pool2<C3>(c3, H0 / 4, W0 / 4, p3, 0);

	float out[F2P];
	fc<(H0 / 8) * (W0 / 8) * C3, F1, true>(p3, w + o_w4, w + o_b4, h);
	fc<F1, F2P, false>(h, w + o_w5, w + o_b5, out);
	memcpy(logits, out, NCLASS * sizeof(float));
}

void
glyph_net::forward(const std::vector<cv::Mat> &patches, cv::Mat &logits)
{
	logits.create((int)patches.size(), NCLASS, CV_32F);
	for (size_t i = 0; i < patches.size(); i++) {
		const cv::Mat &p = patches[i];

		CV_Assert(p.type() == CV_32F && p.rows == H0 && p.cols == W0 &&
			  p.isContinuous());
		forward_one(p.ptr<float>(), logits.ptr<float>((int)i));
	}
}

/*
 * Copies conv weights [COUT][CIN][3][3] to [ky][kx][ci][COUT]; false if
 * the blob is not of that shape.
 */
static bool
take_conv(const cv::Ptr<cv::dnn::Layer> &l, int cin, int cout,
	  std::vector<float> &dst, size_t &ow, size_t &ob)
{
	cv::Ptr<cv::dnn::ConvolutionLayer> c = l.dynamicCast<cv::dnn::ConvolutionLayer>();

	if (!c || l->blobs.size() != 2 || c->kernel_size.size() != 2 ||
	    c->kernel_size[0] != 3 || c->kernel_size[1] != 3 ||
	    c->strides.size() != 2 || c->strides[0] != 1 || c->strides[1] != 1 ||
	    c->pads_begin.size() != 2 || c->pads_begin[0] != 1 ||
	    c->pads_begin[1] != 1 || c->pads_end.size() != 2 ||
	    c->pads_end[0] != 1 || c->pads_end[1] != 1 ||
	    (!c->dilations.empty() && (c->dilations[0] != 1 || c->dilations[1] != 1)) ||
	    c->numOutput != cout)
		return false;
	const cv::Mat &w = l->blobs[0], &b = l->blobs[1];
	if (w.type() != CV_32F || w.total() != (size_t)cout * cin * 9 ||
	    b.type() != CV_32F || b.total() != (size_t)cout)
		return false;
	const float *pw = w.ptr<float>(), *pb = b.ptr<float>();
	ow = dst.size();
	dst.resize(ow + (size_t)cout * cin * 9);
	for (int co = 0; co < cout; co++)
		for (int ci = 0; ci < cin; ci++)
			for (int k = 0; k < 9; k++)
				dst[ow + ((size_t)k * cin + ci) * cout + co] =
					pw[((size_t)co * cin + ci) * 9 + k];
	ob = dst.size();
	dst.insert(dst.end(), pb, pb + cout);
	return true;
}

/* Copies fully connected weights [OUT][IN] to [IN][outp] (zero padded),
   with the input index permuted by perm (NULL: unchanged). */
static bool
take_fc(const cv::Ptr<cv::dnn::Layer> &l, int in, int out, int outp,
	const std::vector<int> *perm, std::vector<float> &dst, size_t &ow,
	size_t &ob)
{
	if (l->type != "InnerProduct" || l->blobs.size() != 2)
		return false;
	const cv::Mat &w = l->blobs[0], &b = l->blobs[1];
	if (w.type() != CV_32F || w.total() != (size_t)in * out ||
	    b.type() != CV_32F || b.total() != (size_t)out)
		return false;
	const float *pw = w.ptr<float>(), *pb = b.ptr<float>();
	ow = dst.size();
	dst.resize(ow + (size_t)in * outp, 0.0f);
	for (int o = 0; o < out; o++)
		for (int i = 0; i < in; i++)
			dst[ow + (size_t)(perm ? (*perm)[i] : i) * outp + o] =
				pw[(size_t)o * in + i];
	ob = dst.size();
	dst.resize(ob + outp, 0.0f);
	std::copy(pb, pb + out, dst.begin() + ob);
	return true;
}

static bool
is_pool2(const cv::Ptr<cv::dnn::Layer> &l)
{
	cv::Ptr<cv::dnn::PoolingLayer> p = l.dynamicCast<cv::dnn::PoolingLayer>();

	/* type 0: MAX in 4.x's enum (an average pool fails load()'s test) */
	return p && p->type == 0 && p->kernel_size.size() == 2 &&
	       p->kernel_size[0] == 2 && p->kernel_size[1] == 2 &&
	       p->strides.size() == 2 && p->strides[0] == 2 &&
	       p->strides[1] == 2 &&
	       (p->pads_begin.empty() || (p->pads_begin[0] == 0 && p->pads_begin[1] == 0)) &&
	       (p->pads_end.empty() || (p->pads_end[0] == 0 && p->pads_end[1] == 0));
}

bool
glyph_net::load(cv::dnn::Net &net)
{
	std::vector<cv::Ptr<cv::dnn::Layer>> l;	/* the layers that compute */
	std::vector<float> w;

	ok = false;
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("fma"))
		return false;
	for (const cv::String &name : net.getLayerNames()) {
		cv::Ptr<cv::dnn::Layer> layer = net.getLayer(name);
		if (layer->type == "ReLU" || layer->type == "Flatten" ||
		    layer->type == "Identity" || layer->type == "Dropout")
			continue;
		l.push_back(layer);
	}
	if (l.size() != 8 || !is_pool2(l[1]) || !is_pool2(l[3]) ||
	    !is_pool2(l[5]))
		return false;
	/* ONNX flattens C x H x W; this pass keeps H x W x C */
	std::vector<int> perm(C3 * (H0 / 8) * (W0 / 8));
	for (int c = 0; c < C3; c++)
		for (int i = 0; i < (H0 / 8) * (W0 / 8); i++)
			perm[c * (H0 / 8) * (W0 / 8) + i] = i * C3 + c;
	if (!take_conv(l[0], 1, C1, w, o_w1, o_b1) ||
	    !take_conv(l[2], C1, C2, w, o_w2, o_b2) ||
	    !take_conv(l[4], C2, C3, w, o_w3, o_b3) ||
	    !take_fc(l[6], (int)perm.size(), F1, F1, &perm, w, o_w4, o_b4) ||
	    !take_fc(l[7], F1, NCLASS, F2P, NULL, w, o_w5, o_b5))
		return false;
	weights.swap(w);
	buf.assign((H0 + 2) * (W0 + 2) + H0 * W0 * C1 +
		   (H0 / 2 + 2) * (W0 / 2 + 2) * C1 + (H0 / 2) * (W0 / 2) * C2 +
		   (H0 / 4 + 2) * (W0 / 4 + 2) * C2 + (H0 / 4) * (W0 / 4) * C3 +
		   (H0 / 8) * (W0 / 8) * C3 + F1, 0.0f);

	/* the same logits as cv::dnn on test windows, or cv::dnn it stays */
	std::vector<cv::Mat> test;
	cv::RNG rng(4);
	for (int i = 0; i < 8; i++) {
		cv::Mat p(H0, W0, CV_32F);
		rng.fill(p, cv::RNG::NORMAL, 0, 1);
		test.push_back(p);
	}
	net.setInput(cv::dnn::blobFromImages(test));
	cv::Mat ref = net.forward().reshape(1, (int)test.size()), mine;
	forward(test, mine);
	if (cv::norm(ref, mine, cv::NORM_INF) > 1e-3 * (1 + cv::norm(ref, cv::NORM_INF)))
		return false;
	ok = true;
	return true;
}

}
