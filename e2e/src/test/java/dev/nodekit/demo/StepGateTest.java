package dev.nodekit.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class StepGateTest {
    private final StringWriter text = new StringWriter();
    private final Cancellation cancel = new Cancellation();

    @Test
    void eachStepWaitsForALineAndTheRestRunThroughOnceInputEnds() throws Exception {
        Narrator say = new Narrator(new PrintWriter(text), cancel,
                StepGate.enterOn(new ByteArrayInputStream("\n".getBytes(StandardCharsets.UTF_8))));
        List<String> ran = new ArrayList<>();
        for (String s : List.of("one", "two", "three")) {
            say.step(s, () -> {
                ran.add(s);
                return new Narrator.Line(s + " done", "it ran");
            });
        }
        assertThat(ran).containsExactly("one", "two", "three");
        List<String> lines = text.toString().lines().toList();
        assertThat(lines).hasSize(6);
        assertThat(lines.get(0)).isEqualTo("    next: step 1, one - press Enter (Ctrl-C stops and cleans up)");
        assertThat(lines.get(1)).matches("^ 1\\.\\s+\\d+\\.\\d\\d s  one done -> it ran$");
        assertThat(lines.get(2)).isEqualTo("    next: step 2, two - press Enter (Ctrl-C stops and cleans up)");
        assertThat(lines.get(3)).isEqualTo("    (input ended: running the remaining steps without waiting)");
        assertThat(lines.get(4)).startsWith(" 2.");
        assertThat(lines.get(5)).startsWith(" 3.");
        assertThat(say.steps()).isEqualTo(3);
    }

    @Test
    void ctrlCWhileWaitingStopsBeforeTheStepRuns() throws Exception {
        PipedOutputStream keyboard = new PipedOutputStream();
        Narrator say = new Narrator(new PrintWriter(text), cancel, StepGate.enterOn(new PipedInputStream(keyboard)));
        List<String> ran = new ArrayList<>();
        CompletableFuture<Throwable> stopped = CompletableFuture.supplyAsync(() -> {
            try {
                say.step("never", () -> {
                    ran.add("never");
                    return new Narrator.Line("ran", "should not have");
                });
                return null;
            } catch (Exception e) {
                return e;
            }
        });
        Thread.sleep(300);
        assertThat(stopped).as("waiting for Enter").isNotDone();
        cancel.request();
        assertThat(stopped.get(5, TimeUnit.SECONDS)).isInstanceOf(Narrator.Cancelled.class);
        assertThat(ran).isEmpty();
        assertThat(say.steps()).isZero();
        keyboard.close();
    }

    @Test
    void withoutTheOptionNothingWaits() throws Exception {
        Narrator say = new Narrator(new PrintWriter(text), cancel);
        say.step("one", () -> new Narrator.Line("done", "ran"));
        assertThat(text.toString()).doesNotContain("press Enter");
        cancel.request();
        assertThatThrownBy(() -> say.step("two", () -> new Narrator.Line("x", "y"))).isInstanceOf(Narrator.Cancelled.class);
    }
}
