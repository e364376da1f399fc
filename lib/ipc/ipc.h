/*
 * IPC between the suite's processes: AF_UNIX SOCK_SEQPACKET, so the kernel
 * keeps message boundaries and SO_PEERCRED names the peer.
 *
 * Wire format (alpr.7): every message starts with a 24-byte header in host
 * byte order (both ends are on one machine):
 *
 *	offset	size	field
 *	0	2	magic 0xA1B5
 *	2	1	version (1)
 *	3	1	type (enum ipc_type)
 *	4	4	flags (IPC_F_*)
 *	8	4	length of the whole message, header included (<= 64 KiB)
 *	12	4	reserved, 0
 *	16	8	sequence number
 *
 * followed by an optional payload, a JSON object (jansson).  A message with
 * IPC_F_FD carries exactly one descriptor (SCM_RIGHTS): frames travel as a
 * sealed memfd, never inline.  Anything else is a protocol error and closes
 * the connection; the daemon carries on.
 *
 * Each side sends HELLO first: {"version":1,"role":R,"name":N,"instance":I}.
 * I is random per process start, so a receiver can tell a restarted sender.
 *
 * Reliable messages (IPC_F_RELIABLE: reads, hits) carry the sender's
 * sequence number, increasing by one per message.  The receiver sends
 * ACK with seq N once every message up to N is committed (cumulative).  The
 * sender keeps unacknowledged messages in a bounded outbox and resends them
 * in order after reconnecting; the receiver drops what it acknowledged
 * before (same instance, seq <= acked), and a receiver that restarted
 * recognises a resend by its own committed state (the payload's id).
 * A receiver that will never take a message (it is bad) refuses that one
 * seq: ACK with IPC_F_ERROR and {"error": S}, not cumulative; the sender
 * takes it out of its outbox and decides (alpr-ocrd: retry, dead-letter),
 * so that one bad message does not hold up the ones after it.
 */
#ifndef ALPR_IPC_H
#define ALPR_IPC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#define IPC_MAGIC 0xA1B5
#define IPC_VERSION 1
#define IPC_HDR_SIZE 24
#define IPC_MSG_MAX 65536
#define IPC_OUTBOX_MAX 65536	/* unacknowledged reliable messages per client */
#define IPC_OUTQ_MAX 1024	/* other queued messages per connection */
#define IPC_CONN_MAX 64		/* connections per server */

enum ipc_type {
	IPC_MSG_HELLO = 1,
	IPC_MSG_ACK = 2,
	IPC_MSG_FRAME = 3,	/* capture -> ocr: memfd + metadata */
	IPC_MSG_READ = 4,	/* ocr -> match, reliable */
	IPC_MSG_HIT = 5,	/* match -> alert, reliable */
	IPC_MSG_HEALTH = 6,	/* camera/GPS health */
	IPC_MSG_REQUEST = 7,	/* control request; the reply has the same seq */
	IPC_MSG_REPLY = 8,
	IPC_MSG_TEST = 9,	/* tests and benchmarks */
	IPC_MSG_TYPE_MAX = IPC_MSG_TEST,
};

enum ipc_flag {
	IPC_F_RELIABLE = 1u << 0,
	IPC_F_FD = 1u << 1,
	IPC_F_ERROR = 1u << 2,
	IPC_F_ALL = (1u << 3) - 1,
};

enum ipc_role {
	IPC_ROLE_CAPTURE = 1u << 0,
	IPC_ROLE_OCR = 1u << 1,
	IPC_ROLE_MATCH = 1u << 2,
	IPC_ROLE_ALERT = 1u << 3,
	IPC_ROLE_CTL = 1u << 4,
	IPC_ROLE_TEST = 1u << 5,
	IPC_ROLE_ANY = (1u << 6) - 1,
};

struct ipc_msg {
	uint8_t type;
	uint32_t flags;
	uint64_t seq;
	json_t *body;		/* NULL when there is no payload */
	int fd;			/* -1 unless IPC_F_FD; owned by the message */
};

/* Frees the body and closes the descriptor. */
void ipc_msg_clear(struct ipc_msg *m);

/*
 * Parses one received message.  have_fd says whether a descriptor came
 * with it (it is not touched here).  Returns 0, or -EBADMSG with *ret_why
 * set to a static reason.  Pure: the fuzz target's entry point.
 */
int ipc_decode(const void *buf, size_t len, bool have_fd, struct ipc_msg *ret,
    const char **ret_why);
/* Serialises header and body into buf (IPC_MSG_MAX bytes); returns the length or -errno. */
ssize_t ipc_encode(void *buf, uint8_t type, uint32_t flags, uint64_t seq, const json_t *body);

/* Blocking-agnostic socket I/O: one message, an optional descriptor. */
ssize_t ipc_send_raw(int sock, const void *buf, size_t len, int fd);
/* Returns 1 with *ret filled, 0 on EOF, -EAGAIN, -EBADMSG (why set), or -errno. */
int ipc_recv(int sock, struct ipc_msg *ret, const char **ret_why);

const char *ipc_role_name(uint32_t role);
uint32_t ipc_role_from_name(const char *name);
const char *ipc_type_name(uint8_t type);

/*
 * Batches: one system call for up to IPC_SEND_BATCH / IPC_RECV_BATCH
 * messages.  ipc_send_many returns how many went (the rest wait), or
 * -errno (-EAGAIN: none).  ipc_recv_many returns how many arrived, each
 * with its ipc_recv()-like status in ret_status[i] (1, 0 for EOF,
 * -EBADMSG with ret_why[i]), or -errno.
 */
#define IPC_SEND_BATCH 64
#define IPC_RECV_BATCH 16
struct ipc_iov {
	const void *data;
	size_t len;
	int fd;
};
int ipc_send_many(int sock, const struct ipc_iov *v, int n);
int ipc_recv_many(int sock, struct ipc_msg *ret, int *ret_status, const char **ret_why, int n);

/* Sockets. */
int ipc_listen(const char *path, int backlog);
int ipc_connect(const char *path);

/* Frames: a sealed memfd of size bytes, filled by the caller through map. */
int ipc_memfd_new(const char *name, size_t size, void **ret_map);
int ipc_memfd_seal(int fd);
/* A sealed memfd holding a copy of data (one write, no mapping): returns the fd. */
int ipc_memfd_from(const char *name, const void *data, size_t size);
/*
 * Copies the first size bytes of fd into buf with pread(): on virtual
 * machines a fresh shared mapping of a frame costs several times a copy
 * (doc/benchmarks.md), so readers copy rather than map.  0 or -errno
 * (-EIO if the file is shorter).
 */
int ipc_memfd_read(int fd, void *buf, size_t size);
/* The same into a new malloc()ed buffer, or NULL with errno set. */
void *ipc_memfd_copy(int fd, size_t size);
/* 0 if fd is a memfd sealed against writing and resizing; its size in *ret_size. */
int ipc_memfd_check(int fd, size_t *ret_size);

/* ---- connections on an sd-event loop ------------------------------------ */

struct ipc_conn;
struct ipc_server;
struct ipc_client;

/* Handlers return 0, or < 0 to close the connection as a protocol error. */
typedef int (*ipc_handler_fn)(struct ipc_conn *c, struct ipc_msg *m, void *userdata);

/* ipc_handler.fd: false and true, or a descriptor that may come or not. */
#define IPC_FD_MAYBE 2

/* One row per accepted message type, like OpenSSH's mon_table. */
struct ipc_handler {
	uint8_t type;
	uint32_t roles;		/* peers (IPC_ROLE_*) allowed to send it */
	uint8_t fd;		/* must carry a descriptor (true), none (false), or IPC_FD_MAYBE */
	bool body;		/* must carry a JSON object */
	ipc_handler_fn fn;
};

struct ipc_ops {
	const struct ipc_handler *table;	/* ends with type 0 */
	/* Optional: the peer said HELLO; return < 0 to refuse it. */
	int (*connected)(struct ipc_conn *c, void *userdata);
	/* Optional: the connection is gone (conn is freed after). */
	void (*disconnected)(struct ipc_conn *c, void *userdata);
};

uint32_t ipc_conn_peer_role(const struct ipc_conn *c);
const char *ipc_conn_peer_name(const struct ipc_conn *c);
uint64_t ipc_conn_peer_instance(const struct ipc_conn *c);
uid_t ipc_conn_peer_uid(const struct ipc_conn *c);
pid_t ipc_conn_peer_pid(const struct ipc_conn *c);
size_t ipc_conn_queued(const struct ipc_conn *c);
/*
 * Caps what the kernel holds for the peer (SO_SNDBUF; the kernel doubles
 * it and keeps a minimum of a few KiB).  For messages that carry memfds,
 * such as frames, this bounds the descriptors, and so the memory, in
 * flight: a connected SOCK_SEQPACKET sender is limited by its send buffer
 * alone, about 275 small messages by default.
 */
int ipc_conn_set_sndbuf(struct ipc_conn *c, int bytes);
void ipc_conn_set_data(struct ipc_conn *c, void *data);
void *ipc_conn_get_data(const struct ipc_conn *c);
/* Queues a message (fd is duplicated, the caller keeps its own). */
int ipc_conn_send(struct ipc_conn *c, uint8_t type, uint32_t flags, uint64_t seq,
    const json_t *body, int fd);
/* Acknowledges every reliable message up to seq (cumulative). */
int ipc_conn_ack(struct ipc_conn *c, uint64_t seq);
/* Refuses the one reliable message seq (not cumulative), saying why. */
int ipc_conn_refuse(struct ipc_conn *c, uint64_t seq, const char *why);
/* Closes with a log line naming why; safe inside a handler. */
void ipc_conn_close(struct ipc_conn *c, const char *why);

/*
 * A listening socket: an fd from LISTEN_FDS or ipc_listen().  role and name
 * are what this side says in HELLO; peers is the set of roles it admits.
 */
int ipc_server_new(sd_event *e, int listen_fd, uint32_t role, const char *name,
    uint32_t peers, const struct ipc_ops *ops, void *userdata, struct ipc_server **ret);
struct ipc_server *ipc_server_free(struct ipc_server *s);
/* Calls fn for every connection that finished HELLO. */
void ipc_server_foreach(struct ipc_server *s, void (*fn)(struct ipc_conn *, void *), void *arg);

/*
 * A client that connects to path, and again with backoff (50 ms doubling to
 * 2 s) whenever the connection is lost.
 */
int ipc_client_new(sd_event *e, const char *path, uint32_t role, const char *name,
    const struct ipc_ops *ops, void *userdata, struct ipc_client **ret);
struct ipc_client *ipc_client_free(struct ipc_client *cl);
/* The live connection, or NULL while (re)connecting. */
struct ipc_conn *ipc_client_conn(struct ipc_client *cl);
/* Unreliable send: -ENOTCONN while disconnected. */
int ipc_client_send(struct ipc_client *cl, uint8_t type, const json_t *body, int fd);
/*
 * Reliable send: kept until acknowledged, resent after reconnecting.
 * fd (or -1) is duplicated and kept with the message, so a sealed memfd of
 * images is resent too.  -ENOBUFS when IPC_OUTBOX_MAX messages wait: the
 * caller must slow down.  ret_seq (optional) gets the sequence number.
 */
int ipc_client_send_reliable(struct ipc_client *cl, uint8_t type, const json_t *body, int fd,
    uint64_t *ret_seq);
size_t ipc_client_unacked(const struct ipc_client *cl);
uint64_t ipc_client_instance(const struct ipc_client *cl);
/* Optional: called with the highest acknowledged seq after each ACK. */
void ipc_client_on_ack(struct ipc_client *cl, void (*fn)(uint64_t seq, void *userdata));
/*
 * Optional: called when the receiver refused the message seq; it has left
 * the outbox.  Without it a refused message is dropped with a log line.
 */
void ipc_client_on_refused(struct ipc_client *cl,
    void (*fn)(uint64_t seq, const char *why, void *userdata));

#endif
