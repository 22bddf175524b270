package dev.strata.engine.readcache;

import java.util.function.IntPredicate;

/**
 * An intrusive doubly-linked list of slot numbers kept in int arrays (no node objects): head is
 * the most recently used end, tail the least. Several lists may share one {@code prev}/{@code next}
 * pair of arrays as long as a slot is in at most one of them.
 */
final class SlotList {
    private final int[] prev;
    private final int[] next;
    private int head = -1;
    private int tail = -1;
    private int size;

    SlotList(int[] prev, int[] next) {
        this.prev = prev;
        this.next = next;
    }

    int size() {
        return size;
    }

    int tail() {
        return tail;
    }

    void addFirst(int s) {
        prev[s] = -1;
        next[s] = head;
        if (head >= 0) {
            prev[head] = s;
        } else {
            tail = s;
        }
        head = s;
        size++;
    }

    void remove(int s) {
        int p = prev[s];
        int n = next[s];
        if (p >= 0) {
            next[p] = n;
        } else {
            head = n;
        }
        if (n >= 0) {
            prev[n] = p;
        } else {
            tail = p;
        }
        prev[s] = -1;
        next[s] = -1;
        size--;
    }

    void moveToFront(int s) {
        if (head != s) {
            remove(s);
            addFirst(s);
        }
    }

    /** The least recently used slot that {@code ok} accepts, or -1. */
    int oldest(IntPredicate ok) {
        for (int s = tail; s >= 0; s = prev[s]) {
            if (ok.test(s)) {
                return s;
            }
        }
        return -1;
    }
}
