package dev.strata.engine.readcache.sim;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * The workloads the eviction policies are compared on, each run through {@link LogLayout} on a
 * 2 GiB volume (512 Ki pages of 4 KiB). Sizes are in pages. fio-like: a sequential prefill, then
 * the measured phase; filesystem-like: a scripted mkfs, a large copy and small-file churn.
 */
final class TraceWorkloads {
    static final int VOLUME_PAGES = 512 * 1024;

    private TraceWorkloads() {}

    static List<Supplier<Trace>> all() {
        return List.of(TraceWorkloads::zipfRandRead, TraceWorkloads::uniformRandRead, TraceWorkloads::scanWithHotSet,
                TraceWorkloads::zipfRandRw, TraceWorkloads::filesystem);
    }

    private static LogLayout prefilled(Trace t) {
        LogLayout l = new LogLayout(VOLUME_PAGES, t);
        for (long p = 0; p < VOLUME_PAGES; p += 256) {
            l.write(p, 256); // fio's layout phase: 1 MiB sequential writes
        }
        return l;
    }

    /** fio randread 4k, zipf theta 0.99 (a database-like hot set), 2 M reads. */
    static Trace zipfRandRead() {
        Trace t = new Trace("fio zipf(0.99) 4k randread");
        LogLayout l = prefilled(t);
        Zipf z = new Zipf(VOLUME_PAGES, 0.99);
        SplittableRandom rnd = new SplittableRandom(1);
        for (int i = 0; i < 2_000_000; i++) {
            l.read(z.next(rnd), 1);
        }
        return t;
    }

    /** fio randread 4k uniform: no locality; every policy should get about size/footprint. */
    static Trace uniformRandRead() {
        Trace t = new Trace("fio uniform 4k randread");
        LogLayout l = prefilled(t);
        SplittableRandom rnd = new SplittableRandom(2);
        for (int i = 0; i < 1_000_000; i++) {
            l.read(rnd.nextInt(VOLUME_PAGES), 1);
        }
        return t;
    }

    /** A zipf hot set over a 256 MiB region, interrupted by 1 MiB-read sequential scans of 512 MiB (backups, reports). */
    static Trace scanWithHotSet() {
        Trace t = new Trace("hot set 4k + sequential scans");
        LogLayout l = prefilled(t);
        int hot = 64 * 1024;
        Zipf z = new Zipf(hot, 0.9);
        SplittableRandom rnd = new SplittableRandom(3);
        long scanAt = VOLUME_PAGES / 2;
        for (int round = 0; round < 12; round++) {
            for (int i = 0; i < 150_000; i++) {
                l.read(z.next(rnd), 1);
            }
            for (long p = 0; p < 128 * 1024; p += 256) {
                l.read(scanAt + p, 256);
            }
            scanAt = (scanAt + 128 * 1024) % VOLUME_PAGES;
        }
        return t;
    }

    /** fio randrw 70/30 4k zipf(0.99): overwrites keep moving hot pages into fresh objects. */
    static Trace zipfRandRw() {
        Trace t = new Trace("fio zipf(0.99) 4k randrw 70/30");
        LogLayout l = prefilled(t);
        Zipf z = new Zipf(VOLUME_PAGES, 0.99);
        SplittableRandom rnd = new SplittableRandom(4);
        for (int i = 0; i < 2_000_000; i++) {
            long p = z.next(rnd);
            if (rnd.nextInt(10) < 7) {
                l.read(p, 1);
            } else {
                l.write(p, 1);
            }
        }
        return t;
    }

    /**
     * A filesystem's life, scripted: mkfs (inode tables and bitmaps every 128 MiB, a 32 MiB
     * journal), a 512 MiB file copied in and read back, then small-file churn like a git
     * checkout being worked in: 20 000 files of 4-32 KiB, zipf-popular, read (with their inode
     * blocks: stat), rewritten (new data, metadata + fs-journal writes), now and then a full
     * `git status` (every inode block) and a backup read of the big file.
     */
    static Trace filesystem() {
        Trace t = new Trace("filesystem: mkfs + copy + small-file churn");
        LogLayout l = new LogLayout(VOLUME_PAGES, t);
        SplittableRandom rnd = new SplittableRandom(5);
        int groupPages = 32 * 1024; // 128 MiB block groups
        int metaPerGroup = 128; // bitmaps + inode table: 512 KiB per group
        for (long g = 0; g < VOLUME_PAGES; g += groupPages) {
            l.write(g, metaPerGroup);
        }
        long fsJournal = 8 * 1024;
        int fsJournalPages = 8 * 1024;
        long journalHead = 0;
        // The copy: source read from elsewhere (not this volume), destination written in 1 MiB chunks, then verified.
        long bigFile = 64 * 1024;
        int bigPages = 128 * 1024;
        for (long p = 0; p < bigPages; p += 256) {
            l.write(bigFile + p, 256);
        }
        for (long p = 0; p < bigPages; p += 256) {
            l.read(bigFile + p, 256);
        }
        // Small files live in the upper half; each has an inode page in its group's metadata.
        int files = 20_000;
        long[] at = new long[files];
        int[] size = new int[files];
        long next = VOLUME_PAGES / 2;
        for (int f = 0; f < files; f++) {
            size[f] = 1 + rnd.nextInt(8);
            at[f] = next;
            next += size[f];
            l.write(at[f], size[f]);
        }
        for (int f = 0; f < files; f += 32) {
            l.write(inodePage(f, groupPages, metaPerGroup), 1);
        }
        Zipf popular = new Zipf(32 * 1024, 0.9);
        for (int step = 0; step < 600_000; step++) {
            int f = (int) (popular.next(rnd) % files);
            int r = rnd.nextInt(1000);
            if (r < 700) { // open + read
                l.read(inodePage(f, groupPages, metaPerGroup), 1);
                l.read(at[f], size[f]);
            } else if (r < 900) { // rewrite in place (ext4 overwrites data blocks) + inode + fs journal
                l.write(at[f], size[f]);
                l.write(inodePage(f, groupPages, metaPerGroup), 1);
                l.write(fsJournal + journalHead, 2);
                journalHead = (journalHead + 2) % fsJournalPages;
            } else if (r < 999) { // stat only
                l.read(inodePage(f, groupPages, metaPerGroup), 1);
            } else if (rnd.nextInt(4) == 0) { // git status: every inode; a backup reads the big file
                for (int g = 0; g < files; g += 32) {
                    l.read(inodePage(g, groupPages, metaPerGroup), 1);
                }
                if (rnd.nextBoolean()) {
                    for (long p = 0; p < bigPages; p += 256) {
                        l.read(bigFile + p, 256);
                    }
                }
            }
        }
        return t;
    }

    /** Inode blocks: 32 inodes (of 128 bytes) per 4 KiB page, spread over the block groups' metadata. */
    private static long inodePage(int file, int groupPages, int metaPerGroup) {
        int page = file / 32;
        int groups = VOLUME_PAGES / groupPages;
        return (long) (page % groups) * groupPages + 2 + (page / groups) % (metaPerGroup - 2);
    }
}
