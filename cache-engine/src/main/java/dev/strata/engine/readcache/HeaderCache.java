package dev.strata.engine.readcache;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Object headers kept on the node next to the read cache (docs/read-cache.md, "Object headers"):
 * one file per object, {@code headers/<volume id>-<object seq>-<epoch>} in hex, holding the
 * header's exact bytes. Without them a restarted node makes one header GET per object before its
 * cached blocks can be used (on S3, tens of milliseconds each). The bytes carry their own magic,
 * version and CRC32C (docs/format.md, object header), which the reader checks when it decodes
 * them, so a torn, stale or damaged file is refetched, never used; losing the directory costs only
 * GETs.
 *
 * <p>Bounded by bytes: past {@code maxBytes} the least recently used files are deleted (at open:
 * the least recently written). A file is written under a temporary name and renamed, so a reader
 * sees a whole file or none; leftovers of a crash ({@code *.tmp}) are deleted at open.
 * Concurrency: {@link #lru} and {@link #bytes} are guarded by this object's monitor, never held
 * across file I/O.
 */
final class HeaderCache {
    private static final System.Logger LOG = System.getLogger(HeaderCache.class.getName());
    private static final String TMP = ".tmp";

    private final Path dir;
    private final long maxBytes;
    /** Guarded by this: file name to size, least recently used first. */
    private final LinkedHashMap<String, Integer> lru = new LinkedHashMap<>(64, 0.75f, true);
    /** Guarded by this. */
    private long bytes;

    private HeaderCache(Path dir, long maxBytes) {
        this.dir = dir;
        this.maxBytes = maxBytes;
    }

    /** Opens (creating) {@code dir}, taking stock of the headers already there. */
    static HeaderCache open(Path dir, long maxBytes) throws IOException {
        Files.createDirectories(dir);
        HeaderCache c = new HeaderCache(dir, maxBytes);
        List<Path> kept = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path p : files) {
                if (p.getFileName().toString().endsWith(TMP)) {
                    Files.deleteIfExists(p);
                } else {
                    kept.add(p);
                }
            }
        }
        // Oldest first: recency is not persisted, the time a copy was written stands in for it.
        kept.sort(java.util.Comparator.comparing(HeaderCache::modified));
        for (Path p : kept) {
            int size = (int) Files.size(p);
            c.lru.put(p.getFileName().toString(), size);
            c.bytes += size;
        }
        c.evict();
        return c;
    }

    private static java.nio.file.attribute.FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            return java.nio.file.attribute.FileTime.fromMillis(0);
        }
    }

    static String name(long volumeHigh, long volumeLow, long seq, long epoch) {
        return String.format("%016x%016x-%016x-%016x", volumeHigh, volumeLow, seq, epoch);
    }

    /** The stored bytes named {@code name}, or null (not stored, or unreadable: then forgotten). */
    ByteBuffer read(String name) {
        synchronized (this) {
            if (lru.get(name) == null) {
                return null;
            }
        }
        try {
            return ByteBuffer.wrap(Files.readAllBytes(dir.resolve(name)));
        } catch (NoSuchFileException e) {
            forget(name);
            return null;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "object header copy " + dir.resolve(name) + " unreadable (" + e + "); fetching it again");
            drop(name);
            return null;
        }
    }

    /** Writes that failed since the last that succeeded: only the first of a run is a warning. */
    private final java.util.concurrent.atomic.AtomicInteger writeFailuresInARow = new java.util.concurrent.atomic.AtomicInteger();

    /** Stores {@code header} (from its position to its limit) under {@code name}; failures are logged, never thrown. */
    void write(String name, ByteBuffer header) {
        synchronized (this) {
            if (lru.containsKey(name)) {
                return;
            }
        }
        Path tmp = dir.resolve(name + "." + Thread.currentThread().threadId() + TMP); // concurrent writers of one name
        int size = header.remaining();
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                ByteBuffer src = header.duplicate();
                while (src.hasRemaining()) {
                    ch.write(src);
                }
            }
            Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            // Once per run of failures (a deleted cache directory fails every write, one per object read).
            if (writeFailuresInARow.getAndIncrement() == 0) {
                LOG.log(System.Logger.Level.WARNING, "could not keep object header " + dir.resolve(name) + ": " + e
                        + "; headers are fetched from the bucket until a write succeeds again");
            } else {
                LOG.log(System.Logger.Level.DEBUG, () -> "could not keep object header " + dir.resolve(name) + ": " + e);
            }
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a leftover .tmp is deleted at the next open
            }
            return;
        }
        int failed = writeFailuresInARow.getAndSet(0);
        if (failed > 0) {
            LOG.log(System.Logger.Level.INFO, "object headers are kept again in " + dir + " after " + failed + " failed write(s)");
        }
        synchronized (this) {
            if (lru.put(name, size) == null) {
                bytes += size;
            }
        }
        evict();
    }

    /** Deletes a stored header that turned out bad, or whose object was deleted. */
    void drop(String name) {
        forget(name);
        try {
            Files.deleteIfExists(dir.resolve(name));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not delete object header copy " + dir.resolve(name) + ": " + e);
        }
    }

    synchronized int size() {
        return lru.size();
    }

    private synchronized void forget(String name) {
        Integer size = lru.remove(name);
        if (size != null) {
            bytes -= size;
        }
    }

    /** Deletes least recently used files until the stored bytes fit. */
    private void evict() {
        List<String> victims = new ArrayList<>();
        synchronized (this) {
            Iterator<Map.Entry<String, Integer>> it = lru.entrySet().iterator();
            while (bytes > maxBytes && it.hasNext()) {
                Map.Entry<String, Integer> e = it.next();
                bytes -= e.getValue();
                victims.add(e.getKey());
                it.remove();
            }
        }
        for (String v : victims) {
            try {
                Files.deleteIfExists(dir.resolve(v));
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "could not delete object header copy " + dir.resolve(v) + ": " + e);
            }
        }
    }
}
