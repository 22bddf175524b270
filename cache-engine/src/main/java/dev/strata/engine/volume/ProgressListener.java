package dev.strata.engine.volume;

/**
 * Progress of a long engine operation (e.g. deleting a volume's objects): called from the
 * operation's thread after each step with how many of how many are done. Must be quick.
 */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (done, total) -> { };

    void progress(long done, long total);
}
