/*
 * The read spool, run in alpr-ocrd's main process: every read is appended
 * to <SpoolDirectory>/reads.spool and synced (fdatasync) before it is
 * sent, so that a read alpr-matchd has not acknowledged survives a kill -9
 * or a power loss of ocrd; at start the spool's reads are sent again
 * (matchd drops what it stored already, by id).  When matchd has
 * acknowledged every spooled read the file is truncated; if it never
 * empties under steady traffic, the acknowledged head is cut off by
 * copying the rest to a new file once it passes SPOOL_COMPACT bytes.
 *
 * A record: a 16-byte header (magic, body length, images length, zlib's
 * CRC-32 of both), the READ body (JSON), the images memfd's bytes.  A torn
 * or damaged tail (power loss mid-append) ends the replay there and is cut
 * off; it was never synced, so never sent.
 *
 * A read alpr-matchd refuses (lib/ipc's refusal) is tried SPOOL_TRIES
 * times in all, then moved to reads.dead (the same record format, synced,
 * never truncated by ocrd: for a person to look at), so that the reads
 * after it flow; the status line counts the dead letters.
 *
 * Input trust: the file is ocrd's own (0600 in a 0700 directory); its
 * records are still checked (lengths, hash, JSON) before they are resent.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "base/log.h"
#include "ipc/ipc.h"
#include "ocrd.h"

#define SPOOL_MAGIC 0x32505341u		/* "ASP2" (ASP1 had an FNV-1a hash; never released) */
#define SPOOL_COMPACT (8u << 20)	/* acknowledged bytes at the head before a copy */
#define SPOOL_RECORD_MAX (64u << 20)	/* sanity bound of one record */

struct spool_hdr {
	uint32_t magic, body_len, img_len, hash;
};

struct spool_rec {
	off_t off, end;
	uint64_t seq;			/* 0 until sent */
	bool done;			/* acknowledged or dead-lettered */
	unsigned refused;		/* times alpr-matchd refused it */
};

struct spool {
	int dirfd, fd;
	char *dir;
	off_t size;
	struct spool_rec *recs;		/* in file order */
	size_t n, alloc;
	uint64_t replayed, failed, dead;
};

static uint32_t
checksum(const void *body, size_t body_len, const void *img, size_t img_len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, body, (uInt)body_len);
	if (img_len > 0)
		c = crc32(c, img, (uInt)img_len);
	return (uint32_t)c;
}

static int
write_all(int fd, const struct iovec *iov, int n)
{
	struct iovec v[3];
	ssize_t k;

	memcpy(v, iov, (size_t)n * sizeof(*v));
	while (n > 0) {
		if ((k = writev(fd, v, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (n > 0 && (size_t)k >= v[0].iov_len) {
			k -= (ssize_t)v[0].iov_len;
			memmove(v, v + 1, (size_t)(n - 1) * sizeof(*v));
			n--;
		}
		if (n > 0) {
			v[0].iov_base = (char *)v[0].iov_base + k;
			v[0].iov_len -= (size_t)k;
		}
	}
	return 0;
}

static int
rec_push(struct spool *sp, off_t off, off_t end)
{
	if (sp->n == sp->alloc) {
		size_t na = sp->alloc ? 2 * sp->alloc : 64;
		struct spool_rec *nr = realloc(sp->recs, na * sizeof(*nr));

		if (nr == NULL)
			return -ENOMEM;
		sp->recs = nr;
		sp->alloc = na;
	}
	sp->recs[sp->n++] = (struct spool_rec){ .off = off, .end = end };
	return 0;
}

int
spool_append(struct spool *sp, const json_t *body, int img_fd)
{
	struct spool_hdr h = { .magic = SPOOL_MAGIC };
	char *js = NULL;
	void *img = NULL;
	size_t img_len = 0;
	struct iovec v[3];
	int r;

	if (img_fd >= 0 && (r = ipc_memfd_check(img_fd, &img_len)) < 0)
		goto fail;
	if (img_len > 0 && (img = ipc_memfd_copy(img_fd, img_len)) == NULL) {
		r = -errno;
		goto fail;
	}
	if ((js = json_dumps(body, JSON_COMPACT)) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	h.body_len = (uint32_t)strlen(js);
	h.img_len = (uint32_t)img_len;
	h.hash = checksum(js, h.body_len, img, img_len);
	v[0] = (struct iovec){ &h, sizeof(h) };
	v[1] = (struct iovec){ js, h.body_len };
	v[2] = (struct iovec){ img, img_len };
	if ((r = write_all(sp->fd, v, img_len > 0 ? 3 : 2)) < 0 ||
	    (fdatasync(sp->fd) < 0 && (r = -errno) < 0)) {
		/* a partial record would end the next replay early: cut it off */
		if (ftruncate(sp->fd, sp->size) < 0)
			log_warn("spool: cannot cut a failed append off");
		goto fail;
	}
	if ((r = rec_push(sp, sp->size, sp->size + (off_t)(sizeof(h) + h.body_len + img_len))) < 0)
		goto fail;
	sp->size = sp->recs[sp->n - 1].end;
	free(js);
	free(img);
	return 0;
fail:
	sp->failed++;
	free(js);
	free(img);
	return r;
}

void
spool_sent(struct spool *sp, uint64_t seq)
{
	for (size_t i = 0; i < sp->n; i++)
		if (sp->recs[i].seq == 0 && !sp->recs[i].done) {
			sp->recs[i].seq = seq;
			return;
		}
}

/* Copies the records from the first one not done on to a new file. */
static int
compact(struct spool *sp, size_t first)
{
	off_t from = sp->recs[first].off, pos;
	char buf[65536];
	ssize_t k;
	int nfd, r = 0;

	nfd = openat(sp->dirfd, "reads.spool.new", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	if (nfd < 0)
		return -errno;
	for (pos = from; pos < sp->size; pos += k) {
		if ((k = pread(sp->fd, buf, sizeof(buf), pos)) <= 0) {
			r = k < 0 ? -errno : -EIO;
			break;
		}
		if (write(nfd, buf, (size_t)k) != k) {
			r = -EIO;
			break;
		}
	}
	if (r == 0 && fsync(nfd) < 0)
		r = -errno;
	if (r == 0 && renameat(sp->dirfd, "reads.spool.new", sp->dirfd, "reads.spool") < 0)
		r = -errno;
	if (r < 0) {
		close(nfd);
		(void)unlinkat(sp->dirfd, "reads.spool.new", 0);
		return r;
	}
	(void)fsync(sp->dirfd);
	close(sp->fd);
	/* reopen for appending */
	sp->fd = openat(sp->dirfd, "reads.spool", O_RDWR | O_APPEND | O_CLOEXEC);
	close(nfd);
	if (sp->fd < 0)
		return -errno;
	memmove(sp->recs, sp->recs + first, (sp->n - first) * sizeof(*sp->recs));
	sp->n -= first;
	for (size_t i = 0; i < sp->n; i++) {
		sp->recs[i].off -= from;
		sp->recs[i].end -= from;
	}
	sp->size -= from;
	return 0;
}

/* Drops the done head; truncates or compacts the file when it pays. */
static void
spool_trim(struct spool *sp)
{
	size_t first = 0;
	int r;

	while (first < sp->n && sp->recs[first].done)
		first++;
	if (first == 0)
		return;
	if (first == sp->n) {
		if (ftruncate(sp->fd, 0) < 0) {
			log_warn("spool: cannot truncate");
			return;
		}
		sp->n = 0;
		sp->size = 0;
		return;
	}
	if (sp->recs[first].off >= (off_t)SPOOL_COMPACT && (r = compact(sp, first)) < 0)
		log_warn_r(r, "spool: cannot compact, it keeps growing");
}

void
spool_acked(struct spool *sp, uint64_t seq)
{
	for (size_t i = 0; i < sp->n; i++)
		if (sp->recs[i].seq != 0 && sp->recs[i].seq <= seq)
			sp->recs[i].done = true;
	spool_trim(sp);
}

static struct spool_rec *
rec_find(struct spool *sp, uint64_t seq)
{
	for (size_t i = 0; i < sp->n; i++)
		if (sp->recs[i].seq == seq && !sp->recs[i].done)
			return &sp->recs[i];
	return NULL;
}

static int read_record(int fd, off_t off, off_t size, json_t **ret_body, int *ret_fd,
    off_t *ret_end);

unsigned
spool_refused(struct spool *sp, uint64_t seq)
{
	struct spool_rec *rec = rec_find(sp, seq);

	return rec != NULL ? ++rec->refused : 0;
}

int
spool_load(struct spool *sp, uint64_t seq, json_t **ret_body, int *ret_fd)
{
	struct spool_rec *rec = rec_find(sp, seq);
	off_t end;
	int r;

	if (rec == NULL)
		return -ENOENT;
	r = read_record(sp->fd, rec->off, sp->size, ret_body, ret_fd, &end);
	return r > 0 ? 0 : r < 0 ? r : -EIO;
}

void
spool_resent(struct spool *sp, uint64_t seq, uint64_t new_seq)
{
	struct spool_rec *rec = rec_find(sp, seq);

	if (rec != NULL)
		rec->seq = new_seq;
}

int
spool_deadletter(struct spool *sp, uint64_t seq)
{
	struct spool_rec *rec = rec_find(sp, seq);
	size_t len;
	char *buf;
	int dfd, r = 0;

	if (rec == NULL)
		return -ENOENT;
	len = (size_t)(rec->end - rec->off);
	if ((buf = malloc(len)) == NULL)
		return -ENOMEM;
	if (pread(sp->fd, buf, len, rec->off) != (ssize_t)len)
		r = -EIO;
	dfd = openat(sp->dirfd, "reads.dead", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (r == 0 && dfd < 0)
		r = -errno;
	if (r == 0 && (write(dfd, buf, len) != (ssize_t)len || fdatasync(dfd) < 0))
		r = -EIO;
	if (dfd >= 0)
		close(dfd);
	free(buf);
	if (r < 0)
		return r;
	sp->dead++;
	rec->done = true;
	spool_trim(sp);
	return 0;
}

uint64_t
spool_dead(const struct spool *sp)
{
	return sp->dead;
}

size_t
spool_count(const struct spool *sp)
{
	size_t k = 0;

	for (size_t i = 0; i < sp->n; i++)
		k += !sp->recs[i].done;
	return k;
}

uint64_t
spool_failed(const struct spool *sp)
{
	return sp->failed;
}

/* Reads one record at off: 1 with *ret_body and *ret_fd, 0 at the end, < 0 damaged. */
static int
read_record(int fd, off_t off, off_t size, json_t **ret_body, int *ret_fd, off_t *ret_end)
{
	struct spool_hdr h;
	char *buf = NULL;
	json_t *body;
	int r;

	if (off == size)
		return 0;
	if (size - off < (off_t)sizeof(h) || pread(fd, &h, sizeof(h), off) != sizeof(h) ||
	    h.magic != SPOOL_MAGIC || h.body_len == 0 ||
	    (uint64_t)h.body_len + h.img_len > SPOOL_RECORD_MAX ||
	    (off_t)(sizeof(h) + h.body_len + h.img_len) > size - off)
		return -EBADMSG;
	if ((buf = malloc((size_t)h.body_len + h.img_len + 1)) == NULL)
		return -ENOMEM;
	if (pread(fd, buf, (size_t)h.body_len + h.img_len, off + (off_t)sizeof(h)) !=
	    (ssize_t)(h.body_len + h.img_len) ||
	    checksum(buf, h.body_len, buf + h.body_len, h.img_len) != h.hash) {
		free(buf);
		return -EBADMSG;
	}
	if ((body = json_loadb(buf, h.body_len, 0, NULL)) == NULL || !json_is_object(body)) {
		json_decref(body);
		free(buf);
		return -EBADMSG;
	}
	r = ipc_memfd_from("alpr-read", h.img_len > 0 ? buf + h.body_len : "",
	    h.img_len > 0 ? h.img_len : 1);
	free(buf);
	if (r < 0) {
		json_decref(body);
		return r;
	}
	*ret_body = body;
	*ret_fd = r;
	*ret_end = off + (off_t)(sizeof(h) + h.body_len + h.img_len);
	return 1;
}

int
spool_replay(struct spool *sp, void (*fn)(json_t *body, int fd, void *userdata), void *userdata)
{
	int rfd, r, fd;
	off_t off = 0, end, size;
	struct stat st;
	json_t *body;

	rfd = openat(sp->dirfd, "reads.spool", O_RDONLY | O_CLOEXEC);
	if (rfd < 0)
		return -errno;
	if (fstat(rfd, &st) < 0) {
		r = -errno;
		close(rfd);
		return r;
	}
	size = st.st_size;
	while ((r = read_record(rfd, off, size, &body, &fd, &end)) > 0) {
		if ((r = rec_push(sp, off, end)) < 0) {
			json_decref(body);
			close(fd);
			break;
		}
		sp->replayed++;
		fn(body, fd, userdata);
		off = end;
	}
	close(rfd);
	if (r == -EBADMSG) {
		log_warnx("spool: a damaged record at byte %lld (an append cut short): "
		    "cut off, %llu reads kept", (long long)off, (unsigned long long)sp->replayed);
		if (ftruncate(sp->fd, off) < 0)
			return -errno;
		(void)fdatasync(sp->fd);
	} else if (r < 0)
		return r;
	sp->size = off;
	if (sp->n == 0 && size > 0)
		(void)ftruncate(sp->fd, 0);
	return (int)sp->replayed;
}

int
spool_open(const char *dir, struct spool **ret)
{
	struct spool *sp;
	int r;

	if ((sp = calloc(1, sizeof(*sp))) == NULL)
		return -ENOMEM;
	sp->fd = sp->dirfd = -1;
	if ((sp->dir = strdup(dir)) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		goto fail;
	}
	if ((sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (sp->fd = openat(sp->dirfd, "reads.spool", O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) < 0) {
		r = -errno;
		goto fail;
	}
	(void)fsync(sp->dirfd);
	/* the dead letters of earlier runs count too */
	{
		int dfd = openat(sp->dirfd, "reads.dead", O_RDONLY | O_CLOEXEC);
		struct spool_hdr h;
		struct stat st;
		off_t off = 0;

		if (dfd >= 0 && fstat(dfd, &st) == 0)
			while (off + (off_t)sizeof(h) <= st.st_size &&
			    pread(dfd, &h, sizeof(h), off) == sizeof(h) && h.magic == SPOOL_MAGIC) {
				sp->dead++;
				off += (off_t)(sizeof(h) + h.body_len + h.img_len);
			}
		if (dfd >= 0)
			close(dfd);
	}
	*ret = sp;
	return 0;
fail:
	spool_close(sp);
	return r;
}

struct spool *
spool_close(struct spool *sp)
{
	if (sp == NULL)
		return NULL;
	if (sp->fd >= 0)
		close(sp->fd);
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	free(sp->recs);
	free(sp->dir);
	free(sp);
	return NULL;
}
