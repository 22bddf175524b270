package dev.strata.engine.volume;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * Store requests of a volume's open (object headers, epoch records) run a bounded number at a
 * time, each on a virtual thread, their results taken in order while later ones are still in
 * flight. The first failure taken cancels the rest; closing waits for what still runs.
 */
final class ConcurrentFetches<R> implements AutoCloseable {
    /** One request. */
    interface Fetch<K, R> {
        R fetch(K key) throws IOException;
    }

    private final ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
    private final List<Future<R>> results;
    private final String what;

    /** Starts fetching every key, at most {@code concurrency} at a time; {@code what} names them in an interruption's message. */
    static <K, R> ConcurrentFetches<R> start(List<K> keys, int concurrency, String what, Fetch<K, R> fetch) {
        return new ConcurrentFetches<>(keys, concurrency, what, fetch);
    }

    private <K> ConcurrentFetches(List<K> keys, int concurrency, String what, Fetch<K, R> fetch) {
        this.what = what;
        this.results = new ArrayList<>(keys.size());
        Semaphore slots = new Semaphore(concurrency);
        for (K key : keys) {
            results.add(pool.submit(() -> {
                slots.acquire();
                try {
                    return fetch.fetch(key);
                } finally {
                    slots.release();
                }
            }));
        }
    }

    /** The result of the {@code i}-th key, waiting for it; its failure as it was thrown (an IOException), or wrapped in one. */
    R get(int i) throws IOException {
        try {
            return results.get(i).get();
        } catch (ExecutionException e) {
            results.forEach(f -> f.cancel(true)); // the caller fails: the other requests are wasted
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            results.forEach(f -> f.cancel(true));
            throw new InterruptedIOException("interrupted while " + what);
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}
