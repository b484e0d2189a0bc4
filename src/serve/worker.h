/*
 * worker: one gateway thread -- its own libuv loop, its own listening socket
 * on the shared port (SO_REUSEPORT, so the kernel spreads connections over
 * the workers), and the HTTP/1.1 side of every connection it accepts:
 * parsing with h1, keep-alive and pipelining, the header timeout against
 * slow clients, bad input answered with the right status and Connection:
 * close, backpressure on clients that do not read, and graceful drain.
 *
 * The worker also keeps what every request of a loop pass shares: the clock,
 * read at most once per pass (the monotonic and the wall clock, lazily, and
 * forgotten in a check handle after the pass's I/O), the Date header line
 * (rebuilt once per second), a random generator, and an output buffer that
 * collects the responses of one read before a single write.
 */
#ifndef TG_SERVE_WORKER_H
#define TG_SERVE_WORKER_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/buf.h"
#include "core/conn.h"
#include "core/h1.h"
#include "core/rng.h"
#include "serve/gateway.h"

struct metrics_worker;

/* One accepted connection. */
typedef struct gwconn {
    conn c;
    struct worker *w;
    h1_parser p;
    gwreq *req;                 /* the request answered asynchronously, or NULL */
    struct gwconn *prev, *next; /* the worker's open connections */
    char ip[INET6_ADDRSTRLEN];  /* the peer's address, NUL-terminated */
    bool in_head;               /* the header deadline is armed */
    bool close_after;           /* close once the responses so far are written */
    bool continued;             /* "100 Continue" sent for the current request */
    bool write_blocked;         /* reading paused until the peer reads our writes */
    bool hold_reads;            /* the waiting request's message lives in rbuf: no reading */
    bool paused;                /* conn_read_pause in effect */
} gwconn;

/* A function to run when a worker's loop ends, in memory the registrant
 * owns (like a libuv handle). */
typedef struct worker_hook {
    void (*fn)(void *arg);
    void *arg;
    struct worker_hook *next;
} worker_hook;

typedef struct worker {
    gw *g;
    unsigned id;
    pthread_t thread;
    bool started;
    bool loop_ok;
    atomic_bool exited; /* the thread's loop returned */
    int listen_fd;
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t wake;        /* stop / abort requests from other threads */
    uv_check_t check;       /* forgets the cached clock after each pass */
    uv_timer_t drain_timer; /* the drain deadline */
    atomic_int command;     /* 0, 1 stop (drain), 2 abort */
    bool stopping;
    bool finished;
    conn_config ccfg;
    h1_config h1cfg;
    rng rng;
    uint64_t now;
    uint64_t wall;
    bool now_ok, wall_ok;
    uint64_t date_sec; /* wall second the Date line is for */
    char date[64];     /* "Date: ...\r\n" */
    size_t date_len;
    buf out; /* responses collected before one conn_write */
    gwconn *conns;
    size_t nconns;
    gwconn *free_conns;
    size_t nfree_conns;
    gateway_pool pool;
    struct metrics_worker *m;
    worker_hook *hooks;
} worker;

/* Opens a non-blocking listening socket on addr (SO_REUSEADDR, and
 * SO_REUSEPORT when reuseport), e.g. the admin listener. Returns the
 * descriptor, or a negative errno with a message ("127.0.0.1:9090: address in
 * use: another process listens on this port"). The address bound is written
 * back into addr (the kernel's choice for port 0). */
int worker_listen_socket(struct sockaddr_storage *addr, const char *text, bool reuseport, char *err,
                         size_t errlen);

/* Opens the n listening sockets of the workers on addr, one port shared
 * through SO_REUSEPORT, into fds[0..n), and makes sure the port is this
 * process's alone: if any other socket listens on it already, or another
 * server takes it at the same moment, it fails with -EADDRINUSE ("HOST:PORT:
 * address in use: another process listens on this port") and opens nothing;
 * once it succeeded no other server can listen there (worker.c explains how).
 * The address bound is written back into addr (the kernel's choice for port
 * 0). Returns 0 or a negative errno with a message; the caller owns the
 * descriptors on success. */
int worker_listen_group(struct sockaddr_storage *addr, const char *text, unsigned n, int *fds,
                        char *err, size_t errlen);

/* Prepares worker `id` of g on listening socket fd (which it then owns).
 * Returns 0 or a negative errno; the caller frees w with worker_free in any
 * case. */
int worker_init(worker *w, gw *g, unsigned id, int listen_fd);

/* Runs the worker's loop on a new thread. Returns 0 or a negative errno. */
int worker_start(worker *w);

/* From any thread: stop accepting, let in-flight requests finish (up to the
 * configured drain_timeout), then end the loop. */
void worker_stop(worker *w);

/* From any thread: close every connection now and end the loop. */
void worker_abort(worker *w);

/* Waits for the thread to end (after worker_stop). */
void worker_join(worker *w);

/* Frees what worker_init made; the thread must have ended (or never run). */
void worker_free(worker *w);

/* On a worker's thread: that worker; NULL on other threads. */
worker *worker_self(void);

/* The monotonic and wall clocks (ns) as of this loop pass. */
uint64_t worker_now(worker *w);
uint64_t worker_wall(worker *w);

/* The "Date: ...\r\n" line for this second. */
const char *worker_date(worker *w, size_t *len);

/* Registers h->fn(h->arg) (set by the caller) to run once on the worker's
 * thread when its loop is ending: after every client connection closed, or
 * when the drain deadline passes (e.g. the proxy closing its pooled upstream
 * connections, which fails what still waits on them). h must stay valid
 * until the worker is freed. */
void worker_on_stop(worker *w, worker_hook *h);

/* The asynchronous request of gc has appended its response to w->out:
 * writes it, and goes on reading (or closes) the connection. */
void worker_conn_answered(gwconn *gc);

/* An orphaned request ended (for the drain's bookkeeping). */
void worker_req_ended(worker *w);

#endif
