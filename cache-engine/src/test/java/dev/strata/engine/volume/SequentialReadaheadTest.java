package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which volume ranges {@link SequentialReadahead} asks for (unit test against a recording target;
 * what the volume then fetches is SequentialReadsPrefetchAcrossObjectsTest's): a new stream
 * prefetches nothing, a continuing read tops the window up in whole GETs only, a read delivered a
 * little early continues its stream, a late one changes nothing.
 */
class SequentialReadaheadTest {
    private static final int GET = 100;
    private static final int WINDOW = 4 * GET;

    private final List<List<Long>> asked = new ArrayList<>();
    private final SequentialReadahead ra = new SequentialReadahead(WINDOW, GET, (offset, length) -> asked.add(List.of(offset, length)));

    @Test
    void aNewStreamPrefetchesNothingAndAContinuingReadPrefetchesTheWindowPastItsEnd() {
        ra.onRead(0, 50);
        assertEquals(List.of(), asked, "one read is not a stream yet");
        ra.onRead(50, 50);
        assertEquals(List.of(List.of(100L, 400L)), asked, "the window past the read's end");
    }

    @Test
    void theWindowIsToppedUpOnlyAWholeGetAtATime() {
        ra.onRead(0, 50);
        ra.onRead(50, 50); // window [100, 500)
        ra.onRead(100, 50); // end 150: 50 bytes of room, less than a GET
        assertEquals(1, asked.size());
        ra.onRead(150, 50); // end 200: a whole GET of room
        assertEquals(List.of(500L, 100L), asked.getLast());
    }

    @Test
    void aReadDeliveredALittleEarlyContinuesItsStreamAndALateOneChangesNothing() {
        ra.onRead(0, 50);
        ra.onRead(50, 50); // stream end 100, window to 500
        ra.onRead(150, 50); // its predecessor [100, 150) not seen yet: still this stream, end 200
        assertEquals(List.of(500L, 100L), asked.getLast());
        int before = asked.size();
        ra.onRead(100, 50); // the late one
        assertEquals(before, asked.size());
        ra.onRead(200, 50); // the stream goes on from 250: less than a GET of room, nothing yet
        assertEquals(before, asked.size());
        ra.onRead(250, 50);
        assertEquals(List.of(600L, 100L), asked.getLast());
    }

    @Test
    void aReadElsewhereStartsAnotherStreamWithoutPrefetching() {
        ra.onRead(0, 50);
        ra.onRead(50, 50);
        int before = asked.size();
        ra.onRead(1_000_000, 50);
        assertEquals(before, asked.size());
        ra.onRead(1_000_050, 50);
        assertEquals(List.of(1_000_100L, 400L), asked.getLast(), "and that stream runs on its own");
    }
}
