package dev.strata.node.cli;

import dev.strata.engine.volume.ProgressListener;
import java.io.PrintStream;

/**
 * Progress of a long command on standard error: at most one line a second
 * ({@code deleting volume vol0: 1200/5000 keys}), and the last one when everything is done.
 * Output stays free of it, so scripts can still parse it.
 */
final class ProgressPrinter implements ProgressListener {
    /** How often a line is printed; tests shorten it. */
    static volatile long everyNanos = 1_000_000_000L;

    private final PrintStream err;
    private final String what;
    private final String unit;
    private final long started = System.nanoTime();
    private long lastPrinted = started;
    private boolean printedAny;

    ProgressPrinter(PrintStream err, String what, String unit) {
        this.err = err;
        this.what = what;
        this.unit = unit;
    }

    @Override
    public synchronized void progress(long done, long total) {
        long now = System.nanoTime();
        // The last step is printed only if earlier ones were: a short operation prints nothing.
        if (now - lastPrinted >= everyNanos || (done == total && printedAny)) {
            lastPrinted = now;
            printedAny = true;
            err.println(what + ": " + done + "/" + total + " " + unit + " (" + (now - started) / 1_000_000_000L + " s)");
            err.flush();
        }
    }

    /** A line of a long request's progress reported by another process (the serve). */
    void line(String text) {
        err.println(text);
        err.flush();
    }
}
