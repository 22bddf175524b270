package dev.strata.engine.volume;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.UUID;

/**
 * A writer's hold on its volume's local directory ({@code LOCALDIR/volumes/NAME}): an exclusive
 * lock on the {@code lock} file keeps two processes of one node apart, and {@link #lostReason}
 * tells whether the lock file and the journal directory are still the files this writer opened
 * (docs/engine.md, "The local directory vanishes"). Files are told apart by
 * {@link BasicFileAttributes#fileKey} (device and inode on Linux); since a file system hands a
 * freed inode number to the next file it creates, the lock file also holds a token of this
 * writer's, which a lock file made by anyone else does not.
 *
 * <p>Concurrency: {@link #watchJournal} is called once by the opener before the volume starts;
 * {@link #lostReason} by the volume's sealer thread only.
 */
final class VolumeDirLock {
    private static final System.Logger LOG = System.getLogger(VolumeDirLock.class.getName());

    private final Path lockFile;
    private final FileChannel channel;
    private final FileLock lock;
    private final Object lockKey;
    /** Written into the lock file: a lock file in its place with the same inode number but not this is another's. */
    private final String token;
    private volatile Path journalDir;
    private volatile Object journalKey;

    private VolumeDirLock(Path lockFile, FileChannel channel, FileLock lock, Object lockKey, String token) {
        this.lockFile = lockFile;
        this.channel = channel;
        this.lock = lock;
        this.lockKey = lockKey;
        this.token = token;
    }

    /** Locks {@code volDir/lock}. @throws VolumeLockedException if another process, or this one, holds it */
    static VolumeDirLock acquire(Path volDir, String volume) throws IOException {
        Path file = volDir.resolve("lock");
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            FileLock l = ch.tryLock();
            if (l == null) {
                ch.close();
                throw new VolumeLockedException("volume " + volume + " is open for writing by another process on this node ("
                        + file + " is locked)", "a process on this node");
            }
            String token = "strata writer pid " + ProcessHandle.current().pid() + " " + UUID.randomUUID() + "\n";
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(token.getBytes(StandardCharsets.US_ASCII)), 0);
            // Read after locking: a file put in the lock file's place before this would be seen as lost at once.
            return new VolumeDirLock(file, ch, l, fileKey(file), token);
        } catch (OverlappingFileLockException e) {
            ch.close();
            throw new VolumeLockedException("volume " + volume + " is already open for writing in this process", "this process");
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** The journal directory the writer opened: watched from now on too. */
    void watchJournal(Path dir) throws IOException {
        journalKey = fileKey(dir);
        journalDir = dir;
    }

    /**
     * Null while the lock file and the journal directory are the ones this writer opened; else
     * what happened to which (deleted, or replaced by another file of the same name).
     */
    String lostReason() {
        String lost = changed(lockFile, lockKey);
        if (lost == null && !token.equals(contents(lockFile))) {
            lost = lockFile + " was replaced by another lock file (it no longer holds this writer's token)";
        }
        Path j = journalDir;
        return lost != null || j == null ? lost : changed(j, journalKey);
    }

    /** The lock file's text; the token itself if it cannot be read now (looked at again at the next check). */
    private String contents(Path p) {
        try {
            return new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1); // any bytes decode: another's junk is not this token
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            return token;
        }
    }

    private static String changed(Path path, Object key) {
        try {
            Object now = fileKey(path);
            return key == null || key.equals(now) ? null : path + " was replaced by another file (it was " + key + ", it is " + now + ")";
        } catch (NoSuchFileException e) {
            return path + " was deleted";
        } catch (IOException e) {
            return null; // cannot tell (a transient error): looked at again at the next check
        }
    }

    private static Object fileKey(Path p) throws IOException {
        return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
    }

    void release() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "releasing " + lockFile + ": " + e.getMessage());
        }
    }
}
