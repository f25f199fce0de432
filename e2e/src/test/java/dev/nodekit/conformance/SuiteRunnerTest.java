package dev.nodekit.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.Requirement;

class SuiteRunnerTest {
    private static final Suite<String> SUITE = Suite.<String>builder("demo")
            .check("demo.pass", "§1", "passes", t -> { })
            .check("demo.fail", "§2", "fails", t -> Expect.that(false, "target %s is wrong", t))
            .check("demo.skip", "§3", "skips", t -> {
                throw new CheckSkipped("not advertised");
            })
            .check("demo.boom", "§4", "throws", t -> {
                throw new IllegalStateException("kaput");
            })
            .build();

    private static RunOptions lenient() {
        return RunOptions.defaults().withStrict(false);
    }

    @Test
    void countsOutcomesAndExitCode() {
        SuiteReport r = new SuiteRunner(lenient()).run(SUITE, "x");
        assertThat(r.summaryLine()).isEqualTo("1 passed, 2 failed, 1 skipped");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.results()).extracting(CheckResult::reason)
                .containsExactly("", "target x is wrong", "not advertised", "IllegalStateException: kaput");
    }

    @Test
    void onlyAndSkipSelectById() {
        SuiteReport r = new SuiteRunner(lenient().withOnly("demo\\.(pass|fail)").withSkip("fail")).run(SUITE, "x");
        assertThat(r.results()).extracting(CheckResult::id).containsExactly("demo.pass");
        assertThat(r.exitCode()).isZero();
    }

    @Test
    void selectingNothingIsNotASuccess() {
        SuiteReport r = new SuiteRunner(lenient().withOnly("nothing-matches")).run(SUITE, "x");
        assertThat(r.exitCode()).isEqualTo(1);
    }

    @Test
    void missingRequirementSkipsOrFailsInStrictMode() {
        // DOCKER is absent on these machines; if a machine has it the check simply passes both ways.
        Suite<String> s = Suite.<String>builder("req")
                .check("req.docker", "§", "needs docker", Set.of(Requirement.DOCKER), t -> { }).build();
        boolean absent = Requirement.DOCKER.missing().isPresent();
        CheckResult lenient = new SuiteRunner(lenient()).run(s, "x").results().get(0);
        CheckResult strict = new SuiteRunner(lenient().withStrict(true)).run(s, "x").results().get(0);
        if (absent) {
            assertThat(lenient.outcome()).isEqualTo(Outcome.SKIP);
            assertThat(lenient.reason()).startsWith("needs docker:");
            assertThat(strict.outcome()).isEqualTo(Outcome.FAIL);
            assertThat(strict.reason()).startsWith("strict mode: needs docker:");
        } else {
            assertThat(lenient.outcome()).isEqualTo(Outcome.PASS);
            assertThat(strict.outcome()).isEqualTo(Outcome.PASS);
        }
    }

    @Test
    void hungCheckFailsAtTheBound() {
        Suite<String> s = Suite.<String>builder("hang")
                .check("hang.forever", "§", "sleeps", t -> Thread.sleep(60_000)).build();
        CheckResult r = new SuiteRunner(lenient().withCheckTimeout(Duration.ofMillis(200))).run(s, "x").results().get(0);
        assertThat(r.outcome()).isEqualTo(Outcome.FAIL);
        assertThat(r.reason()).contains("did not finish within");
        assertThat(r.duration()).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void writesJUnitXmlWithCheckIdsAsTestNames(@TempDir Path dir) throws Exception {
        SuiteReport r = new SuiteRunner(lenient()).run(SUITE, "x");
        Path xml = dir.resolve("out/report.xml");
        r.writeJUnitXml(xml);
        String s = Files.readString(xml);
        assertThat(s).contains("<testsuite name=\"demo\" tests=\"4\" failures=\"2\" errors=\"0\" skipped=\"1\"")
                .contains("name=\"demo.pass\"").contains("<failure message=\"target x is wrong\">")
                .contains("<skipped message=\"not advertised\"");
        var doc = javax.xml.parsers.DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(xml.toFile());
        assertThat(doc.getElementsByTagName("testcase").getLength()).isEqualTo(4);
    }

    @Test
    void rejectsBadIdsAndDuplicates() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Suite.<String>builder("s").check("Bad Id", "", "", t -> { }))
                .hasMessageContaining("dotted lower-case");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Suite.<String>builder("s")
                .check("a.b", "", "", t -> { }).check("a.b", "", "", t -> { }))
                .hasMessageContaining("duplicate check id a.b");
    }
}
