package dev.strata.engine.objectlog;

import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * PUTs sealed batches as objects, at most {@code maxInFlight} at a time, each on its own virtual
 * thread, retrying until it succeeds (a batch is never dropped: its journal space stays held
 * until then). Completions are reported to the {@link Listener} strictly in object sequence
 * order, only once every earlier object is in the bucket too: that contiguous prefix is what a
 * new node would replay, so it is what may release journal space.
 *
 * <p>Each upload encodes its object (header, then data) into a direct buffer it takes from
 * {@link #encodeBuffers} and gives back when its PUT has returned: at most {@code maxInFlight}
 * are in use, so as many are kept. A new heap array per object (8 MiB by default) was two thirds
 * of everything `strata serve` allocated under sequential writes (docs/benchmarks.md).
 *
 * <p>State guarded by {@code this}: {@link #done}, {@link #nextToReport}, {@link #stopped}.
 */
public final class ObjectUploader {
    private static final System.Logger LOG = System.getLogger(ObjectUploader.class.getName());

    /** Called, in sequence order and under the uploader's lock, for each object once it and all before it are uploaded. */
    public interface Listener {
        void uploaded(Batch batch);
    }

    private final ObjectStore store;
    private final VolumeKeys keys;
    private final Semaphore inFlight;
    /** Idle encode buffers (taken by one upload at a time, while it holds an {@link #inFlight} permit). */
    private final ConcurrentLinkedQueue<ByteBuffer> encodeBuffers = new ConcurrentLinkedQueue<>();
    private final AtomicInteger largestObject = new AtomicInteger();
    private final Listener listener;
    private final TreeMap<Long, Batch> done = new TreeMap<>();
    private long nextToReport;
    private boolean stopped;
    private IOException fatal;
    public final LongAdder objectsUploaded = new LongAdder();
    public final LongAdder bytesUploaded = new LongAdder();
    public final LongAdder failedAttempts = new LongAdder();

    public ObjectUploader(ObjectStore store, VolumeKeys keys, int maxInFlight, long firstSeq, Listener listener) {
        this.store = store;
        this.keys = keys;
        this.inFlight = new Semaphore(maxInFlight);
        this.listener = listener;
        this.nextToReport = firstSeq;
    }

    /** Starts uploading a sealed batch; returns at once. */
    public void submit(Batch batch) {
        batch.seal();
        Thread.ofVirtual().name("upload-" + keys.volume() + "-" + batch.objectSeq()).start(() -> upload(batch));
    }

    private void upload(Batch batch) {
        String key = keys.object(batch.objectSeq(), batch.epoch());
        ByteBuffer object = null;
        long backoffMs = 100;
        try {
            inFlight.acquire();
        } catch (InterruptedException e) {
            return;
        }
        ByteBuffer encodeBuffer = null;
        int objectBytes;
        try {
            encodeBuffer = encodeBuffer(batch.encodedBytes());
            object = batch.encodeObject(encodeBuffer);
            objectBytes = object.remaining();
            while (true) {
                synchronized (this) {
                    if (stopped) {
                        return;
                    }
                }
                try {
                    if (!store.putIfAbsent(key, object.duplicate())) {
                        verifyExisting(key, batch);
                    }
                    break;
                } catch (IOException e) {
                    failedAttempts.increment();
                    LOG.log(System.Logger.Level.WARNING, "upload of " + key + " failed, retrying in " + backoffMs + " ms: " + e.getMessage());
                    if (e instanceof ObjectConflictException) {
                        synchronized (this) {
                            fatal = e;
                            stopped = true;
                            notifyAll();
                        }
                        return;
                    }
                    Thread.sleep(ThreadLocalRandom.current().nextLong(backoffMs / 2, backoffMs + 1));
                    backoffMs = Math.min(10_000, backoffMs * 2);
                }
            }
        } catch (InterruptedException e) {
            return;
        } finally {
            if (encodeBuffer != null) {
                encodeBuffers.offer(encodeBuffer); // the PUT has returned: nothing reads it any more
            }
            inFlight.release();
        }
        objectsUploaded.increment();
        bytesUploaded.add(objectBytes);
        complete(batch);
    }

    /**
     * An idle encode buffer that holds {@code bytes}, or a new one as large as the largest object
     * so far and a sixteenth (for the next object's header). A buffer too small is dropped (its
     * memory goes with it): objects of one volume are about one size, so that is rare.
     */
    private ByteBuffer encodeBuffer(int bytes) {
        ByteBuffer b = encodeBuffers.poll();
        if (b != null && b.capacity() >= bytes) {
            return b;
        }
        int size = largestObject.accumulateAndGet(bytes, Math::max);
        return ByteBuffer.allocateDirect(size + (size >> 4));
    }

    /** A conditional create found the key taken: fine if it holds exactly our object (an earlier attempt's response was lost). */
    private void verifyExisting(String key, Batch batch) throws IOException {
        ObjectHeader theirs = ObjectReader.fetchHeader(store, key);
        ObjectHeader ours = batch.header();
        if (theirs.dataBytes != ours.dataBytes || theirs.firstJournalSeq != ours.firstJournalSeq
                || theirs.lastJournalSeq != ours.lastJournalSeq || !java.util.Arrays.equals(theirs.blockCrcs, ours.blockCrcs)) {
            throw new ObjectConflictException(key + " already exists with different content: another writer uses this epoch");
        }
    }

    private synchronized void complete(Batch batch) {
        if (stopped) {
            return;
        }
        done.put(batch.objectSeq(), batch);
        while (!done.isEmpty() && done.firstKey() == nextToReport) {
            listener.uploaded(done.pollFirstEntry().getValue());
            nextToReport++;
        }
        notifyAll();
    }

    /** Blocks until every object up to {@code seq} is uploaded. */
    public synchronized void awaitUploaded(long seq) throws IOException {
        while (nextToReport <= seq) {
            if (fatal != null) {
                throw new IOException("uploads of " + keys.volume() + " stopped", fatal);
            }
            if (stopped) {
                throw new IOException("uploader of " + keys.volume() + " stopped before object " + seq + " was uploaded");
            }
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for object " + seq + " of " + keys.volume());
            }
        }
    }

    /** The highest sequence number such that it and every object before it are uploaded. */
    public synchronized long uploadedThrough() {
        return nextToReport - 1;
    }

    /** Stops: uploads in flight finish or are abandoned, none are retried or reported afterwards. */
    public synchronized void stop() {
        stopped = true;
        notifyAll();
    }

    /** The key exists with other content: continuing could corrupt the volume. */
    public static final class ObjectConflictException extends IOException {
        public ObjectConflictException(String message) {
            super(message);
        }
    }
}
