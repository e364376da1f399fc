/*
 * Fuzz target: the HIT message parser (lib/policy/hit.c
 * policy_hit_msg_parse, policy_hit_msg_image) on arbitrary JSON text, as
 * alpr-alertd receives HIT payloads on alert.sock.  "This program does no
 * sanity checking; it is meant for fuzzing only."
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "policy/hit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t sizes[] = { 0, 1, 4096, SIZE_MAX };
	static const char *const keys[] = { "crop", "context" };
	struct policy_hit_msg m;
	size_t i, k, off, len;
	json_t *body;
	int r;

	if ((body = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL)) == NULL)
		return 0;
	if (policy_hit_msg_parse(body, &m) == 0) {
		/* What the parser promises its callers. */
		if (m.id < 0 || m.plate == NULL || strlen(m.plate) == 0 ||
		    strlen(m.plate) > POLICY_HIT_PLATE_MAX || m.category == NULL ||
		    m.priority < 1 || m.priority > 9 || m.state < 0 || m.state >= HIT_STATE_MAX ||
		    (m.disposition != NULL && !policy_disposition_valid(m.disposition)) ||
		    (m.images != NULL && !json_is_object(m.images)))
			__builtin_trap();
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			for (k = 0; k < 2; k++) {
				off = len = 0;
				r = policy_hit_msg_image(&m, keys[k], sizes[i], &off, &len);
				if (r > 0 && (len == 0 || off > sizes[i] || len > sizes[i] - off))
					__builtin_trap();
			}
	}
	json_decref(body);
	return 0;
}
