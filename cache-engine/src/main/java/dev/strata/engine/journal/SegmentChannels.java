package dev.strata.engine.journal;

import dev.strata.engine.pacing.LinuxFileHints;
import dev.strata.engine.pacing.PacingPolicy;
import dev.strata.engine.pacing.WritebackPacer;
import dev.strata.engine.util.DirectIoMode;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Opens segment files for writing, with O_DIRECT when the mode and the filesystem allow it,
 * and gives buffered ones a writeback pacer.
 * One instance per journal, so the fallback warning is logged once per journal directory.
 * Thread-safe.
 */
final class SegmentChannels {
    private static final System.Logger LOG = System.getLogger(SegmentChannels.class.getName());

    private final Path dir;
    private final DirectIoMode mode;
    private final AtomicBoolean warned = new AtomicBoolean();
    /** Once AUTO has found that O_DIRECT does not work here, stop trying (and failing) on every open. */
    private volatile boolean directUnavailable;

    /** Opens a file with the given options; a seam so tests can make O_DIRECT fail. */
    @FunctionalInterface
    interface Opener {
        FileChannel open(Path file, OpenOption... options) throws IOException;
    }

    private final Opener opener;
    private final PacingPolicy pacing;

    SegmentChannels(Path dir, DirectIoMode mode) {
        this(dir, mode, FileChannel::open);
    }

    SegmentChannels(Path dir, DirectIoMode mode, Opener opener) {
        this(dir, mode, opener, PacingPolicy.disabled());
    }

    SegmentChannels(Path dir, DirectIoMode mode, PacingPolicy pacing) {
        this(dir, mode, FileChannel::open, pacing);
    }

    SegmentChannels(Path dir, DirectIoMode mode, Opener opener, PacingPolicy pacing) {
        this.dir = dir;
        this.mode = mode;
        this.opener = opener;
        this.pacing = pacing;
    }

    /**
     * A writeback pacer for a segment file just opened, or null: under O_DIRECT there is no page
     * cache to pace, with pacing disabled there is nothing to do, and where the hints are
     * unavailable the pacer would be a no-op anyway.
     */
    WritebackPacer pacerFor(Path file, boolean direct) {
        if (direct || !pacing.enabled() || !LinuxFileHints.system().available()) {
            return null;
        }
        WritebackPacer pacer = WritebackPacer.open(LinuxFileHints.system(), file, pacing);
        if (!pacer.active()) {
            pacer.close();
            return null;
        }
        return pacer;
    }

    /** An opened segment channel and whether it bypasses the page cache. */
    record Opened(FileChannel channel, boolean direct) {
    }

    Opened open(Path file, Set<? extends OpenOption> options) throws IOException {
        if (mode == DirectIoMode.OFF || (mode == DirectIoMode.AUTO && directUnavailable)) {
            return new Opened(opener.open(file, options.toArray(OpenOption[]::new)), false);
        }
        List<OpenOption> withDirect = new ArrayList<>(options);
        withDirect.add(DirectIoMode.OPEN_OPTION);
        try {
            return new Opened(opener.open(file, withDirect.toArray(OpenOption[]::new)), true);
        } catch (IOException | UnsupportedOperationException e) {
            if (mode == DirectIoMode.ON) {
                throw new IOException("journal " + dir + ": cannot open " + file.getFileName() + " with O_DIRECT (directIo=ON)", e);
            }
            directUnavailable = true;
            if (warned.compareAndSet(false, true)) {
                LOG.log(System.Logger.Level.WARNING, "journal {0}: O_DIRECT not available ({1}); using buffered I/O",
                        dir, String.valueOf(e));
            }
            return new Opened(opener.open(file, options.toArray(OpenOption[]::new)), false);
        }
    }
}
