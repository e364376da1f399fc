/*
 * The tracker of alpr-ocrd (daemons/ocr/tracker.c, the daemon's own code)
 * replayed over recognizer results computed once, so that how many frames
 * a plate needs can be measured without a machine's load in the figures
 * (tests/bench/bench-tracker.sh drives it and compares with truth.json).
 *
 * Input (stdin): one `alpr-recognize --json -n 20` line per drive frame, in
 * frame order.  Arguments: STEP PHASE LOOPS EARLY_CONF MIN_FRAMES
 * CLOSE_FRAMES [EARLY_AGREE [REJOIN_MS]]: the frames PHASE, PHASE + STEP, ... of LOOPS passes of the
 * drive are "processed" (30 / STEP frames a second of a 30 fps camera),
 * frame n captured at n / 30 s.  Output: one JSON line per read the
 * tracker gives (early or at the close): {"early", "plate", "cands",
 * "first", "last", "frames", "at"}, frames numbered over the loops; "at"
 * is the processed frame the read went on.
 */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocrd.h"

#define FRAME_USEC 33333

static int64_t at_frame;

static void
on_read(struct track *t, bool closing, void *userdata)
{
	struct track_candidate c[sizeof(t->cands) / sizeof(t->cands[0])];
	json_t *cands = json_array(), *o;
	size_t best = 0;

	(void)userdata;
	if (t->read_id[0] == '\0')
		snprintf(t->read_id, sizeof(t->read_id), "%llu", (unsigned long long)t->id);
	t->sent_frames = t->frames;
	memcpy(c, t->cands, t->n_cands * sizeof(c[0]));
	for (size_t i = 1; i < t->n_cands; i++)
		if (c[i].score > c[best].score)
			best = i;
	for (size_t i = 0; i < t->n_cands; i++)
		json_array_append_new(cands, json_string(c[i].text));
	o = json_pack("{s:s,s:b,s:s,s:o,s:I,s:I,s:i,s:I}", "id", t->read_id, "early", !closing,
	    "plate", t->n_cands > 0 ? c[best].text : t->best_text, "cands", cands,
	    "first", (json_int_t)((t->first_usec - 1000000) / FRAME_USEC),
	    "last", (json_int_t)t->last_frame,
	    "frames", (int)t->frames, "at", (json_int_t)at_frame);
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
}

static void
result_from(json_t *line, struct rec_result *res)
{
	json_t *plates = json_object_get(line, "plates"), *p, *c;
	size_t i, k;

	memset(res, 0, sizeof(*res));
	json_array_foreach(plates, i, p) {
		struct rec_plate *pl = &res->plates[res->n_plates];
		json_t *box = json_object_get(p, "box");

		if (res->n_plates == REC_MAX_PLATES)
			break;
		snprintf(pl->text, sizeof(pl->text), "%s",
		    json_string_value(json_object_get(p, "plate")));
		pl->confidence = (float)json_number_value(json_object_get(p, "confidence"));
		for (k = 0; k < 4; k++)
			pl->box[k] = (int)json_integer_value(json_array_get(box, k));
		json_array_foreach(json_object_get(p, "candidates"), k, c) {
			if (pl->n_candidates == REC_MAX_CANDIDATES)
				break;
			snprintf(pl->candidates[pl->n_candidates].text, REC_TEXT_MAX, "%s",
			    json_string_value(json_object_get(c, "plate")));
			pl->candidates[pl->n_candidates++].confidence =
			    (float)json_number_value(json_object_get(c, "confidence"));
		}
		res->n_plates++;
	}
}

int
main(int argc, char **argv)
{
	struct tracker_params tp;
	struct tracker *tr;
	json_t **lines = NULL;
	size_t n = 0;
	int step, phase, loops;
	char buf[1 << 16];

	if (argc < 7 || argc > 9) {
		fprintf(stderr, "usage: ocr-track-replay STEP PHASE LOOPS EARLY_CONF MIN_FRAMES "
		    "CLOSE_FRAMES [EARLY_AGREE [REJOIN_MS]] < results.jsonl\n");
		return 2;
	}
	step = atoi(argv[1]);
	phase = atoi(argv[2]);
	loops = atoi(argv[3]);
	tp.early_conf = atof(argv[4]);
	tp.min_frames = atoi(argv[5]);
	tp.close_frames = atoi(argv[6]);
	tp.early_agree = argc >= 8 ? atoi(argv[7]) : OCR_EARLY_AGREE;
	tp.rejoin_usec = (argc == 9 ? atoll(argv[8]) : 2000) * 1000LL;
	tp.close_usec = 1500 * 1000LL;
	while (fgets(buf, sizeof(buf), stdin) != NULL) {
		json_t *j = json_loads(buf, 0, NULL);

		if (j == NULL)
			continue;
		lines = realloc(lines, (n + 1) * sizeof(*lines));
		lines[n++] = j;
	}
	if (n == 0 || step < 1 || tracker_new(&tp, on_read, NULL, &tr) < 0)
		return 1;
	for (int64_t i = phase; i < (int64_t)n * loops; i += step) {
		struct frame *f = calloc(1, sizeof(*f));
		struct rec_result res;

		f->refs = 1;
		f->fd = -1;
		strcpy(f->camera, "sim");
		f->number = i;
		f->width = 1280;
		f->height = 720;
		f->capture_usec = f->mono_usec = f->received_usec = 1000000 + i * FRAME_USEC;
		at_frame = i;
		result_from(lines[i % (int64_t)n], &res);
		tracker_add(tr, f, &res, f->capture_usec);
		frame_unref(f);
	}
	tracker_free(tr);
	return 0;
}
