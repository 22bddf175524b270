package dev.strata.engine.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;

/**
 * An {@link ObjectStore} in a local directory: the embedded default for {@code serve} and development.
 *
 * <p>A key {@code a/b/c} is the file {@code root/a/b/c}. Every write goes to a uniquely named
 * temporary file in the target's directory first, is fsynced, and then appears under its key in one
 * step (rename, or hard link for {@link #putIfAbsent}), after which the directory is fsynced: after a
 * crash a key holds either the old or the new complete object, never a torn one. Temporary files left
 * by a crash ({@value ObjectKeys#TEMP_PREFIX}*) are never listed or returned.
 *
 * <p>Unlike S3, a key cannot be both an object and a "directory" of other keys ({@code a} and
 * {@code a/b}); such a put fails with an {@link ObjectStoreException}. Empty directories left by
 * deletes are kept: removing them would race with a concurrent put into the same directory.
 */
public final class LocalDirectoryObjectStore implements ObjectStore {
    private static final System.Logger LOG = System.getLogger(LocalDirectoryObjectStore.class.getName());

    private final Path root;
    private final String description;
    private final ObjectStoreStats stats = new ObjectStoreStats();
    private volatile boolean closed;

    /**
     * Opens (creating it and its parents if needed) the directory {@code root} as an object store.
     *
     * @throws UncheckedIOException wrapping an {@link ObjectStoreException} if the directory cannot be created
     */
    public LocalDirectoryObjectStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
        this.description = "file://" + this.root;
        try {
            Files.createDirectories(this.root);
        } catch (IOException e) {
            // Unchecked so the store can be built in field initializers and lambdas; the cause keeps the context.
            throw new UncheckedIOException(new ObjectStoreException(description, "", "cannot create root directory: " + e, e));
        }
    }

    @Override
    public void put(String key, ByteBuffer data) throws IOException {
        Path target = resolveKey(key);
        int size = data.remaining();
        Path temp = writeTemp(key, target, data);
        try {
            // ATOMIC_MOVE is rename(2): it replaces an existing object in one step.
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            deleteQuietly(temp);
            throw failure(key, "rename of temporary file into place failed", e);
        }
        fsyncDirectory(key, target.getParent());
        stats.puts.increment();
        stats.bytesPut.add(size);
    }

    @Override
    public boolean putIfAbsent(String key, ByteBuffer data) throws IOException {
        Path target = resolveKey(key);
        int size = data.remaining();
        Path temp = writeTemp(key, target, data);
        boolean created;
        try {
            // link(2) fails with EEXIST if the target exists, atomically, also against other
            // processes; the content is complete and durable before the name appears.
            Files.createLink(target, temp);
            created = true;
        } catch (FileAlreadyExistsException e) {
            created = false;
        } catch (IOException | UnsupportedOperationException e) {
            throw failure(key, "hard link of temporary file into place failed (the file system must support hard links)", e);
        } finally {
            deleteQuietly(temp);
        }
        fsyncDirectory(key, target.getParent());
        stats.conditionalPuts.increment();
        if (created) {
            stats.bytesPut.add(size);
        }
        return created;
    }

    @Override
    public byte[] get(String key) throws IOException {
        Path path = resolveKey(key);
        stats.gets.increment();
        try (FileChannel ch = openForRead(key, path)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE - 16) {
                throw new ObjectStoreException(description, key, "object of " + size + " bytes is too large for get(); use getRange()");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) size);
            while (buf.hasRemaining() && ch.read(buf, buf.position()) >= 0) {
                // positional reads until full: the object is immutable once in place
            }
            if (buf.hasRemaining()) {
                throw new ObjectStoreException(description, key, "object shrank while being read (" + buf.position() + " of " + size + " bytes)");
            }
            stats.bytesGot.add(size);
            return buf.array();
        } catch (ObjectStoreException e) {
            throw e;
        } catch (IOException e) {
            throw failure(key, "read failed", e);
        }
    }

    @Override
    public int getRange(String key, long offset, ByteBuffer dst) throws IOException {
        Path path = resolveKey(key);
        if (offset < 0) {
            throw new ObjectStoreException(description, key, "negative offset " + offset);
        }
        stats.rangedGets.increment();
        try (FileChannel ch = openForRead(key, path)) {
            if (offset >= ch.size()) {
                return -1;
            }
            int total = 0;
            while (dst.hasRemaining()) {
                int n = ch.read(dst, offset + total);
                if (n < 0) {
                    break;
                }
                total += n;
            }
            stats.bytesGot.add(total);
            return total;
        } catch (ObjectStoreException e) {
            throw e;
        } catch (IOException e) {
            throw failure(key, "ranged read at offset " + offset + " failed", e);
        }
    }

    @Override
    public List<ObjectInfo> list(String prefix) throws IOException {
        checkOpen(prefix);
        ObjectKeys.checkPrefix(description, prefix);
        stats.lists.increment();
        stats.listPages.increment();
        // Walk only the deepest directory the prefix names completely; filter the rest by string.
        int slash = prefix.lastIndexOf('/');
        Path start = slash < 0 ? root : root.resolve(prefix.substring(0, slash));
        List<ObjectInfo> found = new ArrayList<>();
        if (!Files.isDirectory(start)) {
            return found;
        }
        try {
            Files.walkFileTree(start, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (attrs.isRegularFile() && !file.getFileName().toString().startsWith(ObjectKeys.TEMP_PREFIX)) {
                        String key = toKey(file);
                        if (key.startsWith(prefix)) {
                            found.add(new ObjectInfo(key, attrs.size(), attrs.lastModifiedTime().toInstant()));
                        }
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    // A concurrent delete (or a temp file renamed away) is not an error of the listing.
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw e;
                }
            });
        } catch (IOException e) {
            throw failure(prefix, "list failed", e);
        }
        // Keys are ASCII, so String order is the byte order the interface promises.
        found.sort(Comparator.comparing(ObjectInfo::key));
        return found;
    }

    @Override
    public void delete(String key) throws IOException {
        Path path = resolveKey(key);
        stats.deletes.increment();
        try {
            if (!Files.isDirectory(path)) {
                Files.deleteIfExists(path);
            }
            // No directory fsync: a delete that is lost in a crash is redone by the next GC pass.
        } catch (IOException e) {
            throw failure(key, "delete failed", e);
        }
    }

    @Override
    public ObjectStoreStats stats() {
        return stats;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "LocalDirectoryObjectStore[" + description + "]";
    }

    private Path resolveKey(String key) throws ObjectStoreException {
        checkOpen(key);
        ObjectKeys.checkKey(description, key);
        return root.resolve(key);
    }

    private void checkOpen(String key) throws ObjectStoreException {
        if (closed) {
            throw new ObjectStoreException(description, key, "store is closed");
        }
    }

    private String toKey(Path file) {
        String rel = root.relativize(file).toString();
        return file.getFileSystem().getSeparator().equals("/") ? rel : rel.replace(file.getFileSystem().getSeparator(), "/");
    }

    private FileChannel openForRead(String key, Path path) throws IOException {
        try {
            if (Files.isDirectory(path)) {
                // "a" while "a/b" exists: in object-store terms there is no object "a".
                throw new NoSuchObjectException(description, key);
            }
            return FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new NoSuchObjectException(description, key);
        }
    }

    /** Writes {@code data} (not consuming it) to a fresh fsynced temp file next to {@code target}. */
    private Path writeTemp(String key, Path target, ByteBuffer data) throws IOException {
        Path dir = target.getParent();
        ensureDirectory(key, dir);
        Path temp = dir.resolve(ObjectKeys.TEMP_PREFIX + UUID.randomUUID());
        ByteBuffer src = data.duplicate();
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            while (src.hasRemaining()) {
                ch.write(src);
            }
            ch.force(true);
        } catch (IOException e) {
            deleteQuietly(temp);
            throw failure(key, "write of temporary file " + temp.getFileName() + " failed", e);
        }
        return temp;
    }

    /** Creates the key's directory if needed, fsyncing every parent that gained an entry so it survives a crash. */
    private void ensureDirectory(String key, Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectories(dir);
        } catch (FileAlreadyExistsException e) {
            throw new ObjectStoreException(description, key, "a parent of this key is an object, not a directory", e);
        } catch (IOException e) {
            throw failure(key, "cannot create directory " + dir, e);
        }
        for (Path p = dir.getParent(); p != null && p.startsWith(root); p = p.getParent()) {
            fsyncDirectory(key, p);
        }
    }

    private void fsyncDirectory(String key, Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            throw failure(key, "fsync of directory " + dir + " failed", e);
        }
    }

    private static void deleteQuietly(Path temp) {
        try {
            Files.deleteIfExists(temp);
        } catch (IOException e) {
            // A leftover temp file is harmless (never listed); the original error matters more.
            LOG.log(System.Logger.Level.WARNING, "cannot delete temporary file " + temp, e);
        }
    }

    private ObjectStoreException failure(String key, String what, Throwable cause) {
        return new ObjectStoreException(description, key, what + ": " + cause, cause);
    }
}
