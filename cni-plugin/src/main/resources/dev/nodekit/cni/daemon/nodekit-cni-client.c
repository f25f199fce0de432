/*
 * nodekit-cni-client: the CNI executable in front of the nodekit CNI daemon.
 *
 * The runtime execs this file as nodekit-bridge, nodekit-host-local, nodekit-loopback or loopback
 * (one copy per name). It never parses JSON: it forwards its name, the CNI_* variables and stdin as
 * raw bytes over a unix socket, and writes back the daemon's exit code, stdout and stderr. Protocol
 * version 1 (big-endian; see dev.nodekit.cni.daemon.CniWire, the Java side):
 *
 *   client -> daemon  "NKCR" ver:u8 name_len:u8 name env_len:u32 env("K=V\0"...) stdin_len:u32 stdin
 *   daemon -> client  "NKCA" ver:u8                                  request read, not started
 *                     "NKCE" ver:u8 code:u8 msg_len:u32 msg          refused, not started
 *   client -> daemon  'G'                                            commit: start it
 *   daemon -> client  "NKCD" ver:u8 exit:u8 out_len:u32 out err_len:u32 err
 *
 * The commit byte makes "did the daemon start this call?" a question both sides answer alike:
 * before 'G' is written nothing has run, so the client may run the call itself; after it, the
 * daemon owns the call.
 *
 * Fallback: when the daemon cannot be reached (no socket, refused, connect timeout), gives no
 * "ready" in time, refuses the protocol version, or dies after the commit (the connection ends
 * without an answer: nothing runs the call any more), the client execs the JVM launcher of the
 * same name from the fallback directory, with the stdin bytes it read put back on fd 0. A daemon
 * alive but slower than the request bound is NOT bypassed (the call may still be running there):
 * the client answers CNI error 11, try again later. Configuration: nodekit-cni-client.conf next
 * to the executable (socket=, fallback_dir=, connect_timeout_ms=, ready_timeout_ms=,
 * request_timeout_ms=), written by 'nodekit cni install'.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Found by the installer: a file holding this string is a nodekit client it may replace. */
const char NODEKIT_MARK[] = "# nodekit-cni-launcher: thin client, protocol 1";

#define PROTOCOL 1
#define MAX_STDIN (16u << 20)
#define MAX_STDOUT (16u << 20)
#define MAX_STDERR (1u << 20)
#define CONF_NAME "nodekit-cni-client.conf"

extern char **environ;

struct conf {
    char socket[sizeof(((struct sockaddr_un *) 0)->sun_path)];
    char fallback_dir[PATH_MAX];
    long connect_ms, ready_ms, request_ms;
};

struct buf {
    char *p;
    size_t len, cap;
};

static const char *self = "nodekit-cni-client";

static long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

static int put(struct buf *b, const void *data, size_t n) {
    if (n == 0) {
        return 0;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) {
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) {
            return -1;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

static int put_u32(struct buf *b, uint32_t v) {
    unsigned char x[4] = {v >> 24, v >> 16, v >> 8, v};
    return put(b, x, 4);
}

static uint32_t get_u32(const unsigned char *x) {
    return (uint32_t) x[0] << 24 | (uint32_t) x[1] << 16 | (uint32_t) x[2] << 8 | x[3];
}

/* The CNI error object on stdout, exit 1: the only JSON this program ever writes (fixed text). */
static void fail(int code, const char *msg, const char *details) {
    char out[2048];
    char clean[1024];
    size_t j = 0;
    for (size_t i = 0; details && details[i] && j < sizeof(clean) - 2; i++) {
        char c = details[i];
        if (c == '"' || c == '\\') {
            clean[j++] = '\\';
        }
        clean[j++] = (c >= 0x20 && c < 0x7f) ? c : ' ';
    }
    clean[j] = 0;
    int n = snprintf(out, sizeof(out), "{\"code\":%d,\"msg\":\"%s\",\"details\":\"%s\"}\n", code, msg, clean);
    if (n > 0) {
        ssize_t w = write(1, out, (size_t) n < sizeof(out) ? (size_t) n : sizeof(out) - 1);
        (void) w;
    }
    fprintf(stderr, "%s: %s: %s\n", self, msg, clean);
    exit(1);
}

static void read_conf(struct conf *c) {
    char exe[PATH_MAX], path[PATH_MAX + sizeof(CONF_NAME)];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        fail(999, "nodekit CNI client cannot locate itself", strerror(errno));
    }
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    *slash = 0;
    snprintf(path, sizeof(path), "%s/%s", exe, CONF_NAME);
    FILE *f = fopen(path, "re");
    if (!f) {
        fail(999, "nodekit CNI client configuration missing; rerun 'nodekit cni install'", path);
    }
    c->socket[0] = c->fallback_dir[0] = 0;
    c->connect_ms = 1000;
    c->ready_ms = 5000;
    c->request_ms = 90000;
    char line[PATH_MAX + 64];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq) {
            continue;
        }
        *eq = 0;
        const char *k = line, *v = eq + 1;
        if (!strcmp(k, "socket") && strlen(v) < sizeof(c->socket)) {
            strcpy(c->socket, v);
        } else if (!strcmp(k, "fallback_dir") && strlen(v) < sizeof(c->fallback_dir)) {
            strcpy(c->fallback_dir, v);
        } else if (!strcmp(k, "connect_timeout_ms")) {
            c->connect_ms = atol(v);
        } else if (!strcmp(k, "ready_timeout_ms")) {
            c->ready_ms = atol(v);
        } else if (!strcmp(k, "request_timeout_ms")) {
            c->request_ms = atol(v);
        }
    }
    fclose(f);
    if (!c->fallback_dir[0]) {
        fail(999, "nodekit CNI client configuration has no fallback_dir", path);
    }
}

/*
 * Runs the JVM launcher of the same name with the stdin bytes we consumed back on fd 0 (a memfd;
 * a pipe for small inputs if memfd is unavailable). Never returns.
 */
static void fallback(const struct conf *c, char **argv, const struct buf *in, int consumed, const char *why) {
    char path[PATH_MAX + 256];
    snprintf(path, sizeof(path), "%s/%s", c->fallback_dir, self);
    fprintf(stderr, "%s: %s; running the JVM launcher %s\n", self, why, path);
    if (consumed) {
        int fd = memfd_create("nodekit-cni-stdin", 0);
        if (fd >= 0) {
            size_t off = 0;
            while (off < in->len) {
                ssize_t w = write(fd, in->p + off, in->len - off);
                if (w < 0 && errno == EINTR) {
                    continue;
                }
                if (w <= 0) {
                    fail(999, "nodekit CNI client cannot buffer stdin for the fallback", strerror(errno));
                }
                off += (size_t) w;
            }
            lseek(fd, 0, SEEK_SET);
        } else {
            int p[2];
            if (in->len > 60000 || pipe(p) != 0) {
                fail(999, "nodekit CNI client cannot buffer stdin for the fallback", strerror(errno));
            }
            if (in->len && write(p[1], in->p, in->len) != (ssize_t) in->len) {
                fail(999, "nodekit CNI client cannot buffer stdin for the fallback", strerror(errno));
            }
            close(p[1]);
            fd = p[0];
        }
        if (fd != 0) {
            if (dup2(fd, 0) < 0) {
                fail(999, "nodekit CNI client cannot buffer stdin for the fallback", strerror(errno));
            }
            close(fd);
        }
    }
    argv[0] = path;
    execv(path, argv);
    char details[PATH_MAX + 512];
    snprintf(details, sizeof(details), "%s; exec %s: %s", why, path, strerror(errno));
    fail(999, "nodekit CNI daemon unreachable and its fallback launcher failed", details);
}

/* Waits for fd to be ready for events until deadline; 0 ready, -1 timed out or failed. */
static int await(int fd, short events, long deadline) {
    for (;;) {
        long left = deadline - now_ms();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, (int) (left > INT_MAX ? INT_MAX : left));
        if (r > 0) {
            return 0;
        }
        if (r < 0 && errno != EINTR) {
            return -1;
        }
    }
}

static int send_all(int fd, const char *p, size_t n, long deadline) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t) w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (await(fd, POLLOUT, deadline) != 0) {
                return -1;
            }
        } else {
            return -1;
        }
    }
    return 0;
}

/* Reads exactly n bytes; 0 done, -1 timeout/error, -2 end of stream (errno = ECONNRESET). */
static int recv_all(int fd, void *dst, size_t n, long deadline) {
    char *p = dst;
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r > 0) {
            p += r;
            n -= (size_t) r;
        } else if (r == 0) {
            errno = ECONNRESET;
            return -2;
        } else if (errno == EAGAIN || errno == EINTR) {
            if (await(fd, POLLIN, deadline) != 0) {
                return -1;
            }
        } else {
            return errno == ECONNRESET ? -2 : -1;
        }
    }
    return 0;
}

static int connect_daemon(const struct conf *c, long deadline) {
    struct sockaddr_un a;
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, c->socket);
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            return -1;
        }
        if (connect(fd, (struct sockaddr *) &a, sizeof(a)) == 0) {
            return fd;
        }
        int e = errno;
        if (e == EINPROGRESS) {
            int err = 0;
            socklen_t len = sizeof(err);
            if (await(fd, POLLOUT, deadline) == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
                return fd;
            }
            e = err ? err : ETIMEDOUT;
        }
        close(fd);
        /* A full accept backlog answers EAGAIN at once: retry briefly within the connect bound. */
        if (e != EAGAIN || now_ms() + 5 >= deadline) {
            errno = e;
            return -1;
        }
        struct timespec t = {0, 5 * 1000000L};
        nanosleep(&t, NULL);
    }
}

int main(int argc, char **argv) {
    (void) argc;
    const char *slash = strrchr(argv[0], '/');
    self = slash ? slash + 1 : argv[0];
    if (!*self || strlen(self) > 255) {
        fail(999, "nodekit CNI client has no usable name", argv[0]);
    }
    /* VERSION and the bare "about" call do not read stdin (runtimes may leave it open). */
    const char *cmd = getenv("CNI_COMMAND");
    int consume = cmd && *cmd && strcmp(cmd, "VERSION") != 0;
    struct buf in = {0};
    if (consume) {
        char chunk[65536];
        for (;;) {
            ssize_t r = read(0, chunk, sizeof(chunk));
            if (r == 0) {
                break;
            }
            if (r < 0) {
                if (errno == EINTR) {
                    continue;
                }
                fail(5, "error reading from stdin", strerror(errno));
            }
            if (in.len + (size_t) r > MAX_STDIN || put(&in, chunk, (size_t) r) != 0) {
                fail(5, "error reading from stdin", "configuration larger than 16 MiB");
            }
        }
    }
    struct conf c;
    read_conf(&c);
    if (!c.socket[0]) {
        fallback(&c, argv, &in, consume, "no daemon socket configured");
    }

    struct buf req = {0};
    struct buf env = {0};
    for (char **e = environ; *e; e++) {
        if (!strncmp(*e, "CNI_", 4)) {
            put(&env, *e, strlen(*e) + 1);
        }
    }
    unsigned char name_len = (unsigned char) strlen(self);
    if (put(&req, "NKCR", 4) || put(&req, "\x01", 1) || put(&req, &name_len, 1) || put(&req, self, name_len)
            || put_u32(&req, (uint32_t) env.len) || put(&req, env.p, env.len) || put_u32(&req, (uint32_t) in.len)) {
        fail(999, "nodekit CNI client out of memory", "building the request");
    }

    long start = now_ms();
    int fd = connect_daemon(&c, start + c.connect_ms);
    if (fd < 0) {
        char why[512];
        snprintf(why, sizeof(why), "daemon unreachable at %s (%s)", c.socket, strerror(errno));
        fallback(&c, argv, &in, consume, why);
    }
    long ready_by = now_ms() + c.ready_ms;
    int sent = send_all(fd, req.p, req.len, ready_by) == 0 && send_all(fd, in.p, in.len, ready_by) == 0;
    int send_errno = errno;
    unsigned char h[5];
    /* A daemon at its connection limit refuses before reading: its refusal is still readable after our
     * send failed with EPIPE, so read before deciding. */
    int r = recv_all(fd, h, 5, sent ? ready_by : now_ms() + 100);
    if (!sent && r != 0) {
        char why[512];
        snprintf(why, sizeof(why), "cannot send the request to %s (%s)", c.socket, strerror(send_errno));
        close(fd);
        fallback(&c, argv, &in, consume, why);
    }
    if (r != 0) {
        char why[512];
        snprintf(why, sizeof(why), "daemon at %s gave no ready answer in %ld ms (%s)", c.socket, c.ready_ms,
                r == -2 ? "connection closed" : strerror(errno));
        close(fd);
        fallback(&c, argv, &in, consume, why);
    }
    if (h[4] > PROTOCOL || h[4] == 0) {
        char why[512];
        snprintf(why, sizeof(why), "daemon at %s answered in protocol version %d, this client speaks %d", c.socket,
                h[4], PROTOCOL);
        close(fd);
        fallback(&c, argv, &in, consume, why);
    }
    if (!memcmp(h, "NKCE", 4)) {
        unsigned char e[5];
        char msg[1024] = "";
        if (recv_all(fd, e, 5, ready_by) == 0) {
            uint32_t n = get_u32(e + 1);
            size_t keep = n < sizeof(msg) - 1 ? n : sizeof(msg) - 1;
            if (recv_all(fd, msg, keep, ready_by) == 0) {
                msg[keep] = 0;
            }
        }
        close(fd);
        if (e[0] == 2) {
            fail(11, "nodekit CNI daemon is at capacity; try again later", msg);
        }
        char why[1200];
        snprintf(why, sizeof(why), "daemon refused the request (code %d: %s)", e[0], msg);
        fallback(&c, argv, &in, consume, why);
    }
    if (memcmp(h, "NKCA", 4) != 0) {
        close(fd);
        fallback(&c, argv, &in, consume, "daemon answered something that is not nodekit's CNI protocol");
    }

    /* Commit: from here on the daemon owns the call. */
    if (send_all(fd, "G", 1, ready_by) != 0) {
        char why[512];
        snprintf(why, sizeof(why), "cannot commit the request to %s (%s)", c.socket, strerror(errno));
        close(fd);
        fallback(&c, argv, &in, consume, why);
    }
    long answer_by = now_ms() + c.request_ms;
    unsigned char d[10];
    r = recv_all(fd, d, 10, answer_by);
    if (r == 0 && (memcmp(d, "NKCD", 4) != 0 || d[4] != h[4])) {
        fail(999, "nodekit CNI daemon sent a malformed answer", c.socket);
    }
    uint32_t out_len = r == 0 ? get_u32(d + 6) : 0;
    if (r == 0 && out_len > MAX_STDOUT) {
        fail(999, "nodekit CNI daemon sent an oversized answer", c.socket);
    }
    char *out = r == 0 ? malloc(out_len + 1) : NULL;
    if (r == 0 && !out) {
        fail(999, "nodekit CNI client out of memory", "reading the answer");
    }
    unsigned char el[4];
    if (r == 0) {
        r = recv_all(fd, out, out_len, answer_by);
    }
    if (r == 0) {
        r = recv_all(fd, el, 4, answer_by);
    }
    uint32_t err_len = r == 0 ? get_u32(el) : 0;
    char *err = NULL;
    if (r == 0 && err_len > 0) {
        if (err_len > MAX_STDERR || !(err = malloc(err_len))) {
            fail(999, "nodekit CNI daemon sent an oversized answer", c.socket);
        }
        r = recv_all(fd, err, err_len, answer_by);
    }
    if (r == -2) {
        /* The daemon died or restarted mid-call: nothing runs this call any more, so run it here.
         * A half-done ADD makes this one fail (the allocation or interface exists) and the runtime's
         * DEL then removes both; DEL, CHECK, STATUS and GC are idempotent. */
        close(fd);
        fallback(&c, argv, &in, consume, "daemon connection lost before the answer");
    }
    if (r != 0) {
        char details[512];
        snprintf(details, sizeof(details), "no answer from %s in %ld ms (%s); the call may still be running there",
                c.socket, c.request_ms, strerror(errno));
        fail(11, "nodekit CNI daemon did not answer in time; try again later", details);
    }
    close(fd);
    size_t off = 0;
    while (off < out_len) {
        ssize_t w = write(1, out + off, out_len - off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            break;
        }
        off += (size_t) w;
    }
    if (err_len > 0) {
        ssize_t w = write(2, err, err_len);
        (void) w;
    }
    return d[5];
}
