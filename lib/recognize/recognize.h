/*
 * recognize.h - licence plate recognizer (public API of lib/recognize).
 *
 * Runs in alpr-ocrd's worker and in alpr-recognize.  Input is an 8-bit grey
 * frame from the caller (trusted memory, untrusted content); models come
 * from a directory the caller names (trusted, installed by the package).
 *
 * A struct rec_ctx holds the loaded models and scratch state.  There is no
 * global state: contexts are independent, and one context may be used by
 * one thread at a time.  Load it once, call rec_run() per frame.
 *
 * All functions return >= 0 on success or a negative errno; outputs are
 * untouched on failure.  No C++ exception ever crosses this API.
 */
#ifndef ALPR_RECOGNIZE_H
#define ALPR_RECOGNIZE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define REC_TEXT_MAX		16	/* plate text, NUL included */
#define REC_STATE_MAX		3	/* two-letter code, NUL included */
#define REC_MAX_CANDIDATES	20
#define REC_MAX_PLATES		8
#define REC_MAX_SIDE		16384	/* refused above this width/height */
#define REC_MAX_PIXELS		(64L * 1000 * 1000)

/* rec_run() flags */
enum {
	REC_CROP = 1 << 0,	/* input is a tight plate crop: skip detection */
	REC_NO_STATE = 1 << 1,	/* no state guess this call (Tesseract costs
				   about as much as the rest together) */
};

struct rec_ctx;

struct rec_candidate {
	char	text[REC_TEXT_MAX];
	float	confidence;		/* 0..100 */
};

struct rec_plate {
	char	text[REC_TEXT_MAX];	/* best candidate */
	float	confidence;		/* 0..100 */
	char	state[REC_STATE_MAX];	/* lower-case code, "" if unknown */
	float	state_confidence;	/* 0..100, 0 if unknown */
	int	box[4];			/* x, y, w, h in input pixels */
	float	corners[4][2];		/* tl, tr, br, bl in input pixels */
	float	detection_score;	/* detector score (crop mode: 0) */
	int	n_candidates;
	struct rec_candidate candidates[REC_MAX_CANDIDATES];
};

/* Stages of rec_run(), for rec_result.stage_ms */
enum {
	REC_STAGE_DETECT,	/* finding plate boxes in the frame */
	REC_STAGE_READ,		/* rectifying, segmenting and reading boxes */
	REC_STAGE_STATE,	/* Tesseract reading the state name */
	REC_STAGES
};

struct rec_result {
	int	n_plates;		/* best first */
	struct rec_plate plates[REC_MAX_PLATES];
	float	stage_ms[REC_STAGES];	/* the calling thread's CPU time */
};

struct rec_options {
	const char *country;		/* "us" (NULL means "us") */
	int	top_n;			/* candidates kept, 1..REC_MAX_CANDIDATES */
	int	max_plates;		/* 1..REC_MAX_PLATES */
	int	detect_boxes;		/* detector boxes read per frame, 1..40 */
	int	use_tesseract;		/* read the state name (0: never) */
};

/* Fill in the defaults (country us, top_n 10, 4 plates, 5 boxes). */
void rec_options_init(struct rec_options *opt);

/*
 * Load models from model_dir (glyph-cnn.onnx, detector.yml).  opt may be
 * NULL for defaults.  -ENOENT if a model is missing, -EINVAL for bad
 * options or a corrupt model, -ENOMEM.
 */
int rec_new(const char *model_dir, const struct rec_options *opt,
	    struct rec_ctx **ret_ctx);
void rec_free(struct rec_ctx *ctx);

/*
 * Find and read plates in a grey image (row stride in bytes).  flags:
 * REC_CROP, REC_NO_STATE.  -EINVAL for a NULL or empty image, -E2BIG above the size
 * caps, -EIO if OpenCV failed inside (the context stays usable).
 */
int rec_run(struct rec_ctx *ctx, const uint8_t *grey, int width, int height,
	    size_t stride, unsigned flags, struct rec_result *ret_result);

/*
 * Decode an image file (PNG, JPEG, BMP, PNM) to grey.  The header is
 * checked before decoding: images over REC_MAX_SIDE or REC_MAX_PIXELS give
 * -E2BIG, unknown formats -EMEDIUMTYPE, truncated or corrupt data -EBADMSG,
 * an empty file -ENODATA.  *ret_grey is malloc'd, stride == width.
 */
int rec_image_load(const char *path, uint8_t **ret_grey, int *ret_width,
		   int *ret_height);
int rec_image_decode(const void *data, size_t len, uint8_t **ret_grey,
		     int *ret_width, int *ret_height);

/*
 * Process-wide: OpenCV's worker threads (0 or 1: none).  A daemon with a
 * worker per core wants 1; call before the first rec_run().
 */
void rec_global_set_threads(int n);

/*
 * 1 if text (upper case, as rec_run() gives it) has one of the US serial
 * plate formats the reader prefers (syntax.cpp), else 0: vanity and
 * partial texts are valid plates but not ones to trust early.
 */
int rec_syntax_known(const char *text);

#ifdef __cplusplus
}
#endif

#endif
