/*
 * Fuzz target: the IPC message parser (lib/ipc ipc_decode), with and
 * without a descriptor said to come with the bytes.  "This program does no
 * sanity checking; it is meant for fuzzing only."
 */
#include "config.h"

#include <stdint.h>

#include "ipc/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_msg m = { .fd = -1 };
	const char *why;
	int fd;

	for (fd = 0; fd < 2; fd++) {
		if (ipc_decode(data, size, fd, &m, &why) == 0) {
			/* A decoded message re-encodes to a valid message. */
			unsigned char out[IPC_MSG_MAX];
			ssize_t n = ipc_encode(out, m.type, m.flags & ~IPC_F_FD, m.seq, m.body);

			if (n > 0) {
				struct ipc_msg m2 = { .fd = -1 };

				if (ipc_decode(out, n, false, &m2, &why) != 0)
					__builtin_trap();
				ipc_msg_clear(&m2);
			}
			ipc_msg_clear(&m);
		}
	}
	return 0;
}
