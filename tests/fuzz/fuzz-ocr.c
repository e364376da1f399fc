/*
 * Fuzz target: alpr-ocrd's decoders of outside bytes, the FRAME body check
 * (daemons/ocr/frames.c, with a real sealed memfd) and the check of a
 * worker's answer (result_parse in daemons/ocr/worker.c, included for the
 * static).  The first byte picks which one gets the rest as JSON.  The
 * recognizer is stubbed: only the checks run here.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "../../daemons/ocr/worker.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#include "../unit/rec-stub.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int memfd = -1;
	struct ipc_msg m = { .fd = -1 };
	struct frame *f = NULL;
	struct rec_result res;
	const char *why;
	json_t *body;

	if (size < 1 || (body = json_loadb((const char *)data + 1, size - 1, 0, NULL)) == NULL)
		return 0;
	if (memfd < 0) {
		static const uint8_t zeros[64 * 64];

		/* 64 x 64, stride 64: what a body may or may not announce */
		if ((memfd = ipc_memfd_from("fuzz", zeros, sizeof(zeros))) < 0)
			__builtin_trap();
	}
	if (data[0] & 1) {
		m.body = body;
		m.fd = dup(memfd);
		if (frame_from_msg(&m, &f, &why) == 0) {
			if (f->size != f->stride * (size_t)f->height || f->width > (int)f->stride)
				__builtin_trap();
			frame_unref(f);
		}
		ipc_msg_clear(&m);
	} else {
		struct frame fr = { .width = 1280, .height = 720 };

		if (result_parse(body, &fr, &res) == 0)
			for (int i = 0; i < res.n_plates; i++)
				if (res.plates[i].box[0] + res.plates[i].box[2] > 1280 ||
				    strlen(res.plates[i].text) >= REC_TEXT_MAX)
					__builtin_trap();
		json_decref(body);
	}
	return 0;
}
