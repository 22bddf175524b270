package dev.strata.engine.readcache.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.readcache.EvictionPolicy;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The simulator itself: on a trace with a clear hot set every policy hits, and frequency-aware admission resists a scan. */
class SimulatorSmokeTest {
    @Test
    void everyPolicyHitsAHotSetAndTinyLfuSurvivesScans() {
        Trace t = new Trace("hot set + scan");
        SplittableRandom rnd = new SplittableRandom(7);
        long scan = 1_000_000;
        for (int round = 0; round < 20; round++) {
            for (int i = 0; i < 20_000; i++) {
                t.read(rnd.nextInt(200));
            }
            for (int i = 0; i < 2_000; i++) {
                t.read(scan++);
            }
        }
        for (EvictionPolicy.Kind k : EvictionPolicy.Kind.values()) {
            double r = EvictionSimulator.hitRatio(t, k, 256, 1);
            assertTrue(r > 0.5, k + " hit ratio " + r);
        }
        double lru = EvictionSimulator.hitRatio(t, EvictionPolicy.Kind.LRU, 256, 1);
        double lfu = EvictionSimulator.hitRatio(t, EvictionPolicy.Kind.TINY_LFU, 256, 1);
        assertTrue(lfu > lru, "TinyLFU " + lfu + " vs LRU " + lru);
    }
}
