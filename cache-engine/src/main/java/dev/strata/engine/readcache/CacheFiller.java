package dev.strata.engine.readcache;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs fills in the background so that neither a reader (whose answer is already out) nor the
 * uploader waits for cache writes. A bounded queue: when it is full a fill is dropped, which only
 * costs a later miss. Idle threads exit, so an abandoned cache leaves no threads behind.
 *
 * <p>{@link #outstanding} counts submitted tasks not yet finished; guarded by its own monitor for
 * {@link #awaitIdle}.
 */
final class CacheFiller {
    private static final System.Logger LOG = System.getLogger(CacheFiller.class.getName());
    private final ThreadPoolExecutor pool;
    private final AtomicInteger outstanding = new AtomicInteger();

    CacheFiller(int threads, int queue, String name) {
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(threads, threads, 5, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queue),
                r -> Thread.ofPlatform().daemon().name(name + "-" + n.incrementAndGet()).unstarted(r));
        this.pool.allowCoreThreadTimeOut(true);
    }

    /** Queues {@code task}; false (and nothing runs) if the queue is full or the filler stopped. */
    boolean submit(Runnable task) {
        outstanding.incrementAndGet();
        try {
            pool.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "read cache fill failed", e);
                } finally {
                    done();
                }
            });
            return true;
        } catch (RejectedExecutionException e) {
            done();
            return false;
        }
    }

    private void done() {
        if (outstanding.decrementAndGet() == 0) {
            synchronized (outstanding) {
                outstanding.notifyAll();
            }
        }
    }

    /** Waits until every submitted fill has finished. */
    void awaitIdle() throws InterruptedException {
        synchronized (outstanding) {
            while (outstanding.get() > 0) {
                outstanding.wait(100);
            }
        }
    }

    /** Finishes queued fills, then stops. */
    void shutdown() throws InterruptedException {
        pool.shutdown();
        if (!pool.awaitTermination(30, TimeUnit.SECONDS)) {
            pool.shutdownNow();
        }
    }
}
