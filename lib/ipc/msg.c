/*
 * Message framing and socket I/O: see ipc.h for the wire format.  Runs in
 * every daemon and alprctl; trusts nothing it receives.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc/ipc.h"

/* Header field offsets; the header is encoded field by field, never as a struct. */
enum { H_MAGIC = 0, H_VERSION = 2, H_TYPE = 3, H_FLAGS = 4, H_LENGTH = 8, H_RESERVED = 12,
	H_SEQ = 16 };

void
ipc_msg_clear(struct ipc_msg *m)
{
	json_decref(m->body);
	m->body = NULL;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}

#define GET(buf, off, type) ({ type v_; memcpy(&v_, (const char *)(buf) + (off), sizeof(v_)); v_; })
#define PUT(buf, off, type, val) do { type v_ = (val); memcpy((char *)(buf) + (off), &v_, sizeof(v_)); } while (0)

int
ipc_decode(const void *buf, size_t len, bool have_fd, struct ipc_msg *ret, const char **ret_why)
{
	json_error_t jerr;
	uint32_t flags, length;
	json_t *body = NULL;
	uint8_t type;

#define BAD(why) do { *ret_why = (why); return -EBADMSG; } while (0)
	if (len < IPC_HDR_SIZE)
		BAD("short message");
	if (GET(buf, H_MAGIC, uint16_t) != IPC_MAGIC)
		BAD("bad magic");
	if (GET(buf, H_VERSION, uint8_t) != IPC_VERSION)
		BAD("unsupported version");
	length = GET(buf, H_LENGTH, uint32_t);
	if (length != len || length > IPC_MSG_MAX)
		BAD("length does not match");
	type = GET(buf, H_TYPE, uint8_t);
	if (type == 0 || type > IPC_MSG_TYPE_MAX)
		BAD("unknown type");
	flags = GET(buf, H_FLAGS, uint32_t);
	if (flags & ~IPC_F_ALL)
		BAD("unknown flags");
	if (!!(flags & IPC_F_FD) != have_fd)
		BAD("descriptor and flag disagree");
	if (GET(buf, H_RESERVED, uint32_t) != 0)
		BAD("reserved field set");
	if (len > IPC_HDR_SIZE) {
		body = json_loadb((const char *)buf + IPC_HDR_SIZE, len - IPC_HDR_SIZE,
		    JSON_REJECT_DUPLICATES, &jerr);
		if (body == NULL)
			BAD("payload is not JSON");
		if (!json_is_object(body)) {
			json_decref(body);
			BAD("payload is not a JSON object");
		}
	}
#undef BAD
	ret->type = type;
	ret->flags = flags;
	ret->seq = GET(buf, H_SEQ, uint64_t);
	ret->body = body;
	ret->fd = -1;
	return 0;
}

ssize_t
ipc_encode(void *buf, uint8_t type, uint32_t flags, uint64_t seq, const json_t *body)
{
	size_t n = 0;

	if (body != NULL) {
		n = json_dumpb(body, (char *)buf + IPC_HDR_SIZE, IPC_MSG_MAX - IPC_HDR_SIZE,
		    JSON_COMPACT);
		if (n == 0)
			return -EINVAL;
		if (n > IPC_MSG_MAX - IPC_HDR_SIZE)
			return -EMSGSIZE;
	}
	PUT(buf, H_MAGIC, uint16_t, IPC_MAGIC);
	PUT(buf, H_VERSION, uint8_t, IPC_VERSION);
	PUT(buf, H_TYPE, uint8_t, type);
	PUT(buf, H_FLAGS, uint32_t, flags);
	PUT(buf, H_LENGTH, uint32_t, (uint32_t)(IPC_HDR_SIZE + n));
	PUT(buf, H_RESERVED, uint32_t, 0);
	PUT(buf, H_SEQ, uint64_t, seq);
	return IPC_HDR_SIZE + n;
}

ssize_t
ipc_send_raw(int sock, const void *buf, size_t len, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	ssize_t n;

	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	n = sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	return n < 0 ? -errno : n;
}

/* Closes every descriptor a control message brought. */
static int
take_fds(struct msghdr *mh, int *ret_fd)
{
	struct cmsghdr *c;
	int count = 0, fd, i, n;

	*ret_fd = -1;
	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (count++ == 0)
				*ret_fd = fd;
			else
				close(fd);
		}
	}
	return count;
}

/* Checks one received datagram and takes its descriptor. */
static int
finish_recv(const void *buf, ssize_t n, struct msghdr *mh, struct ipc_msg *ret,
    const char **ret_why)
{
	int fd, nfds, r;

	nfds = take_fds(mh, &fd);
	if (n == 0 && nfds == 0)
		return 0;
	if (mh->msg_flags & (MSG_TRUNC | MSG_CTRUNC) || nfds > 1) {
		*ret_why = mh->msg_flags & MSG_TRUNC ? "message too long" : "too many descriptors";
		r = -EBADMSG;
		goto fail;
	}
	if ((r = ipc_decode(buf, n, nfds == 1, ret, ret_why)) < 0)
		goto fail;
	ret->fd = fd;
	return 1;
fail:
	if (fd >= 0)
		close(fd);
	return r;
}

union cmsg_fds {
	struct cmsghdr h;
	char buf[CMSG_SPACE(sizeof(int) * 4)];
};

int
ipc_recv(int sock, struct ipc_msg *ret, const char **ret_why)
{
	static char buf[IPC_MSG_MAX];	/* single-threaded processes only */
	union cmsg_fds cm;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
		.msg_controllen = sizeof(cm.buf) };
	ssize_t n;

	n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return finish_recv(buf, n, &mh, ret, ret_why);
}

int
ipc_recv_many(int sock, struct ipc_msg *ret, int *ret_status, const char **ret_why, int n)
{
	static char bufs[IPC_RECV_BATCH][IPC_MSG_MAX];
	union cmsg_fds cm[IPC_RECV_BATCH];
	struct iovec iov[IPC_RECV_BATCH];
	struct mmsghdr mm[IPC_RECV_BATCH];
	int i, k;

	if (n > IPC_RECV_BATCH)
		n = IPC_RECV_BATCH;
	memset(mm, 0, sizeof(mm[0]) * n);
	for (i = 0; i < n; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = IPC_MSG_MAX;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_control = cm[i].buf;
		mm[i].msg_hdr.msg_controllen = sizeof(cm[i].buf);
	}
	k = recvmmsg(sock, mm, n, MSG_DONTWAIT | MSG_CMSG_CLOEXEC, NULL);
	if (k < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	for (i = 0; i < k; i++) {
		ret_why[i] = NULL;
		ret[i].fd = -1;
		ret[i].body = NULL;
		ret_status[i] = finish_recv(bufs[i], mm[i].msg_len, &mm[i].msg_hdr, &ret[i],
		    &ret_why[i]);
	}
	return k;
}

int
ipc_send_many(int sock, const struct ipc_iov *v, int n)
{
	union cmsg_fds cm[IPC_SEND_BATCH];
	struct iovec iov[IPC_SEND_BATCH];
	struct mmsghdr mm[IPC_SEND_BATCH];
	struct cmsghdr *c;
	int i, k;

	if (n > IPC_SEND_BATCH)
		n = IPC_SEND_BATCH;
	memset(mm, 0, sizeof(mm[0]) * n);
	for (i = 0; i < n; i++) {
		iov[i].iov_base = (void *)v[i].data;
		iov[i].iov_len = v[i].len;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		if (v[i].fd < 0)
			continue;
		memset(&cm[i], 0, sizeof(cm[i]));
		mm[i].msg_hdr.msg_control = cm[i].buf;
		mm[i].msg_hdr.msg_controllen = CMSG_SPACE(sizeof(int));
		c = CMSG_FIRSTHDR(&mm[i].msg_hdr);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &v[i].fd, sizeof(int));
	}
	k = sendmmsg(sock, mm, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (k < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return k;
}

int
ipc_memfd_from(const char *name, const void *data, size_t size)
{
	const char *p = data;
	ssize_t n;
	int fd, r;

	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	/* write(), not a mapping: no page faults or TLB work in this process. */
	while (size > 0) {
		n = write(fd, p, size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			close(fd);
			return r;
		}
		p += n;
		size -= n;
	}
	if ((r = ipc_memfd_seal(fd)) < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int
ipc_memfd_read(int fd, void *buf, size_t size)
{
	char *p = buf;
	off_t off = 0;
	ssize_t n;

	while ((size_t)off < size) {
		n = pread(fd, p + off, size - (size_t)off, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += n;
	}
	return 0;
}

void *
ipc_memfd_copy(int fd, size_t size)
{
	void *p;
	int r;

	if ((p = malloc(size)) == NULL)
		return NULL;
	if ((r = ipc_memfd_read(fd, p, size)) < 0) {
		free(p);
		errno = -r;
		return NULL;
	}
	return p;
}

static const char *const role_names[] = { "capture", "ocr", "match", "alert", "ctl", "test" };

const char *
ipc_role_name(uint32_t role)
{
	size_t i;

	for (i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (role == 1u << i)
			return role_names[i];
	return "unknown";
}

uint32_t
ipc_role_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (strcmp(name, role_names[i]) == 0)
			return 1u << i;
	return 0;
}

const char *
ipc_type_name(uint8_t type)
{
	static const char *const names[] = { "none", "hello", "ack", "frame", "read", "hit",
		"health", "request", "reply", "test" };

	return type <= IPC_MSG_TYPE_MAX ? names[type] : "unknown";
}

static int
sockaddr_for(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

int
ipc_listen(const char *path, int backlog)
{
	struct sockaddr_un sa;
	int fd, r;

	if ((r = sockaddr_for(path, &sa)) < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, backlog) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int
ipc_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd, r;

	if ((r = sockaddr_for(path, &sa)) < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int
ipc_memfd_new(const char *name, size_t size, void **ret_map)
{
	void *map;
	int fd, r;

	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, size) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_map = map;
	return fd;
}

/*
 * The writer must munmap its writable mapping first: F_SEAL_WRITE fails
 * with EBUSY while one exists.
 */
int
ipc_memfd_seal(int fd)
{
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return -errno;
	return 0;
}

int
ipc_memfd_check(int fd, size_t *ret_size)
{
	const int want = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
	struct stat st;
	int seals;

	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return -errno;	/* EINVAL: not a memfd */
	if ((seals & want) != want)
		return -EPERM;
	if (fstat(fd, &st) < 0)
		return -errno;
	*ret_size = st.st_size;
	return 0;
}
