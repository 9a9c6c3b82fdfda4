// A pool of worker threads for qkv_parallel_for: the forward pass hands out dozens of products and
// attention loops of tens of microseconds each, and waking a sleeping thread (libdispatch's
// concurrentPerform on Linux) takes about as long as the work, so the second core barely helped.
// Workers here spin for a while after each job before they sleep, as OpenMP's and PyTorch's do.
//
// One job at a time: a caller that finds the pool busy (another thread's job, or a job inside a
// job) runs its indices itself. Which thread runs an index never changes what the index computes,
// so results are the same bits either way.
#include "CKernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax(void) { _mm_pause(); }
#elif defined(__aarch64__)
static inline void cpu_relax(void) { __asm__ __volatile__("yield"); }
#else
static inline void cpu_relax(void) {}
#endif

enum {
    max_workers = 255,
    // Pauses a worker spins for a new job before it sleeps (about 0.1–1 ms, CPU-dependent):
    // longer than the serial steps between two products of one forward pass.
    spin_pauses = 1 << 15,
};

// The job being run. `ticket` packs the job's generation (high 32 bits) and the next index to hand
// out (low 32 bits), so a worker claims an index with a compare-and-swap only while the job it
// read is still the current one: a worker that looks late cannot take an index of the next job.
// The other fields are written before the generation is published and stay until every index of
// the job has completed, which needs the caller's wait to end.
// (Relaxed atomics rather than plain fields: a worker may read them while a new job writes them,
// and then throws what it read away.)
static struct {
    _Atomic uint64_t ticket;
    _Atomic long completed;
    _Atomic(qkv_task_fn) fn;
    _Atomic(void *) context;
    _Atomic long count;
    _Atomic int helpers;  // workers 0..<helpers take part
} job;

#define RELAXED(field) atomic_load_explicit(&job.field, memory_order_relaxed)

static pthread_mutex_t caller_lock = PTHREAD_MUTEX_INITIALIZER;  // one job at a time
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static _Atomic int sleepers;
static int started;  // workers created so far (under caller_lock)
static _Thread_local bool inside_job;

// Runs indices of generation `generation` until none is left; returns how many it ran.
static long run_indices(uint32_t generation) {
    long ran = 0;
    uint64_t ticket = atomic_load_explicit(&job.ticket, memory_order_acquire);
    for (;;) {
        if ((uint32_t)(ticket >> 32) != generation) return ran;
        long index = (long)(uint32_t)ticket;
        if (index >= RELAXED(count)) return ran;
        if (!atomic_compare_exchange_weak_explicit(&job.ticket, &ticket, ticket + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue;
        ticket += 1;
        // The job cannot end (nor its fields change) before this index completes.
        RELAXED(fn)(RELAXED(context), index);
        ran += 1;
        atomic_fetch_add_explicit(&job.completed, 1, memory_order_release);
    }
}

static void *worker_main(void *argument) {
    int id = (int)(intptr_t)argument;
    inside_job = true;  // a job's task that asks for a parallel loop runs it itself
    uint32_t seen = (uint32_t)(atomic_load_explicit(&job.ticket, memory_order_acquire) >> 32);
    for (;;) {
        uint32_t generation = seen;
        for (int spin = 0; spin < spin_pauses; spin++) {
            generation = (uint32_t)(atomic_load_explicit(&job.ticket, memory_order_acquire) >> 32);
            if (generation != seen) break;
            cpu_relax();
        }
        if (generation == seen) {
            pthread_mutex_lock(&sleep_lock);
            atomic_fetch_add(&sleepers, 1);  // seq_cst: pairs with the caller's publish, then load
            while ((generation = (uint32_t)(atomic_load(&job.ticket) >> 32)) == seen)
                pthread_cond_wait(&wake, &sleep_lock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&sleep_lock);
        }
        seen = generation;
        // job.helpers is read after the ticket showed this generation; if the job already ended and
        // another began, the compare-and-swap in run_indices refuses the stale generation.
        if (id < RELAXED(helpers)) run_indices(generation);
    }
    return NULL;
}

// Creates workers up to `count` (under caller_lock); returns how many exist.
static int ensure_workers(int count) {
    if (count > max_workers) count = max_workers;
    while (started < count) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attributes, worker_main, (void *)(intptr_t)started);
        pthread_attr_destroy(&attributes);
        if (failed) break;  // fewer helpers: same results, less parallel
        started += 1;
    }
    return started;
}

void qkv_parallel_for(long count, int threads, qkv_task_fn fn, void *context) {
    if (count <= 0) return;
    long wanted = threads < count ? threads : count;
    if (wanted <= 1 || count > UINT32_MAX || inside_job || pthread_mutex_trylock(&caller_lock) != 0) {
        for (long i = 0; i < count; i++) fn(context, i);
        return;
    }
    int helpers = ensure_workers((int)(wanted - 1 < max_workers ? wanted - 1 : max_workers));
    if (helpers > wanted - 1) helpers = (int)(wanted - 1);

    atomic_store_explicit(&job.fn, fn, memory_order_relaxed);
    atomic_store_explicit(&job.context, context, memory_order_relaxed);
    atomic_store_explicit(&job.count, count, memory_order_relaxed);
    atomic_store_explicit(&job.helpers, helpers, memory_order_relaxed);
    atomic_store_explicit(&job.completed, 0, memory_order_relaxed);
    uint32_t generation = (uint32_t)(atomic_load_explicit(&job.ticket, memory_order_relaxed) >> 32) + 1;
    atomic_store(&job.ticket, (uint64_t)generation << 32);  // seq_cst: publishes the fields above
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&sleep_lock);
    }

    inside_job = true;
    run_indices(generation);
    inside_job = false;
    for (long spin = 0; atomic_load_explicit(&job.completed, memory_order_acquire) < count; spin++) {
        if (spin < spin_pauses) cpu_relax();
        else sched_yield();  // a helper the OS preempted mid-task
    }
    pthread_mutex_unlock(&caller_lock);
}
