using System.Globalization;
using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// The service's self-confinement (src/Ext4Service/Sandbox), on the published binary: the
/// --self-test mode as root and as nobody, and a real serving service (socket-activated as
/// root, with descriptors inherited on purpose) inspected through /proc (proc(5)) while a
/// mount is up and read from.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class SandboxTests
{
    /// <summary>One line per probe of SelfTest.Run; each must read "blocked".</summary>
    private static readonly string[] Probes =
    [
        "open /etc/passwd for reading",
        "open / as a directory",
        "create /tmp/safemount-self-test-",
        "open /dev/null for writing",
        "open /proc/self/mem for writing",
        "socket(AF_INET, SOCK_STREAM)",
        "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)",
        "socket(AF_UNIX, SOCK_STREAM)",
        "ptrace(PTRACE_SEIZE, parent ",
        "mount tmpfs on ",
        "execve /bin/false",
    ];

    private const string NoCapabilities = "0000000000000000";

    private string _work = string.Empty;

    [OneTimeSetUp]
    public void CreateWorkDir()
    {
        _work = Directory.CreateTempSubdirectory("safemount-sandbox-").FullName;
    }

    [OneTimeTearDown]
    public void RemoveWorkDir()
    {
        Directory.Delete(_work, recursive: true);
    }

    [Test]
    public void SelfTestAsRootSwitchesToNobodyAndBlocksEveryProbe()
    {
        TestEnvironment.RequireMountEnvironment();
        CommandResult r = Command.Run(TestEnvironment.ServicePath, ["--self-test"], TimeSpan.FromSeconds(60));
        AssertSelfTestPassed(r);
        Assert.That(r.StdOut, Does.Contain("confined: uid 65534 gid 65534 (switched from root)"), r.ToString());
    }

    [Test]
    public void SelfTestAsNobodyBlocksEveryProbe()
    {
        TestEnvironment.RequireMountEnvironment();
        CommandResult r = Command.Run("setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups", TestEnvironment.ServicePath, "--self-test"],
            TimeSpan.FromSeconds(60));
        AssertSelfTestPassed(r);
        Assert.That(r.StdOut, Does.Contain("confined: uid 65534 gid 65534,"), r.ToString());
    }

    [Test]
    public void SelfTestWithAnEmptyBoundingSetReportsNoneLeft()
    {
        TestEnvironment.RequireMountEnvironment();
        CommandResult r = Command.Run("setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups", "--bounding-set", "-all", TestEnvironment.ServicePath, "--self-test"],
            TimeSpan.FromSeconds(60));
        AssertSelfTestPassed(r);
        Assert.That(r.StdOut, Does.Not.Contain("bounding set keeps"), r.ToString());
    }

    [Test]
    public void ServingServiceIsConfinedAndKeepsOnlyItsDescriptors()
    {
        TestEnvironment.RequireMountEnvironment();
        string image = TestImages.Build(_work, new ImageLayout("sandbox", [], "128M", 2000, false, 61));
        string inherited = Path.Combine(_work, "inherited-read.txt");
        string inheritedRw = Path.Combine(_work, "inherited-rw.txt");
        File.WriteAllText(inherited, "an fd the service must not keep\n");
        File.WriteAllText(inheritedRw, string.Empty);

        // bash opens both without FD_CLOEXEC and execs the service in the same process.
        using var activator = new SocketActivator(_work, servicePrelude: $"exec 7<'{inherited}' 9<>'{inheritedRw}'");
        CommandResult r = Mounts.ProbeSafeOnly(image, _work, activator,
            Path.Combine(TestEnvironment.ScriptsDir, "sandbox-status.sh"), TestEnvironment.ServicePath);
        string context = $"{r}\nservice log:\n{activator.Log}";
        Assert.That(r.ExitCode, Is.Zero, context);

        string[] lines = r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Dictionary<string, string> status = lines.Where(l => l.StartsWith("status-", StringComparison.Ordinal) || l.StartsWith("limit-", StringComparison.Ordinal))
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        List<Dictionary<string, string>> tasks = lines.Where(l => l.StartsWith("task=", StringComparison.Ordinal))
            .Select(l => l.Split(' ').Select(f => f.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : string.Empty)).ToList();
        List<(int Fd, string Target)> fds = lines.Where(l => l.StartsWith("fd=", StringComparison.Ordinal))
            .Select(l => l[3..].Split(' ', 2)).Select(p => (int.Parse(p[0], CultureInfo.InvariantCulture), p.Length > 1 ? p[1] : string.Empty)).ToList();

        Assert.Multiple(() =>
        {
            // Started as root by the activator: now nobody, everywhere.
            Assert.That(status["status-Uids"], Is.EqualTo("65534 65534 65534 65534"), context);
            foreach (string set in new[] { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" })
            {
                Assert.That(status[$"status-{set}"], Is.EqualTo(NoCapabilities), $"{set} of the process; {context}");
            }

            Assert.That(status["status-NoNewPrivs"], Is.EqualTo("1"));
            Assert.That(status["status-Seccomp"], Is.EqualTo("2"), "seccomp filter mode");

            // TSYNC: every thread, including those the runtime started before confinement, is
            // filtered; none holds a usable capability (setresuid cleared them in each thread).
            Assert.That(tasks, Has.Count.GreaterThanOrEqualTo(5), "main, runtime and FUSE worker threads");
            foreach (Dictionary<string, string> t in tasks)
            {
                string who = $"thread {t["task"]} ({t["name"]})";
                Assert.That(t["Seccomp"], Is.EqualTo("2"), who);
                Assert.That(t["NoNewPrivs"], Is.EqualTo("1"), who);
                Assert.That(t["CapEff"], Is.EqualTo(NoCapabilities), who);
                Assert.That(t["CapPrm"], Is.EqualTo(NoCapabilities), who);
                Assert.That(t["CapAmb"], Is.EqualTo(NoCapabilities), who);
            }

            // The FUSE workers (4: the main thread and 3 it starts after confinement) have an
            // empty bounding set; threads the runtime started before Main keep theirs (inert,
            // see PrivilegeDrop).
            Assert.That(tasks.Count(t => t["CapBnd"] == NoCapabilities), Is.GreaterThanOrEqualTo(4), "threads with an empty bounding set");

            // Limits: NOFILE just above the open descriptors, no core dumps, NPROC bounded.
            string[] noFile = status["limit-nofile"].Split(' ');
            Assert.That(noFile[0], Is.EqualTo(noFile[1]), "NOFILE soft == hard");
            Assert.That(int.Parse(noFile[0], CultureInfo.InvariantCulture), Is.LessThanOrEqualTo(fds.Max(f => f.Fd) + 1 + 16));
            Assert.That(status["limit-core"], Is.EqualTo("0 0"));
            Assert.That(status["limit-nproc"], Does.Not.Contain("unlimited"));

            // Descriptors: stdio, the socket, the loop device, /dev/fuse and the runtime's own
            // (/dev/urandom, Console's dups of 1 and 2, the signal pipe) — nothing inherited.
            foreach ((int fd, string target) in fds)
            {
                bool expected = fd <= 2
                    || target.StartsWith("socket:[", StringComparison.Ordinal)
                    || target.StartsWith("/dev/loop", StringComparison.Ordinal)
                    || target == "/dev/fuse"
                    || target == "/dev/urandom"
                    || target.StartsWith("pipe:[", StringComparison.Ordinal)
                    || target.StartsWith("anon_inode:", StringComparison.Ordinal)
                    || target == activator.LogPath;
                Assert.That(expected, $"fd {fd} -> {target}");
            }

            Assert.That(fds.Select(f => f.Target), Has.None.EqualTo(inherited).And.None.EqualTo(inheritedRw));
            Assert.That(fds.Count(f => f.Target == "/dev/fuse"), Is.EqualTo(1));
            Assert.That(fds.Count(f => f.Target.StartsWith("/dev/loop", StringComparison.Ordinal)), Is.EqualTo(1));

            // The inherited descriptors were seen and closed, and the confinement was logged.
            Assert.That(activator.Log, Does.Contain($"closed inherited file descriptor 7 ({inherited})"));
            Assert.That(activator.Log, Does.Contain($"closed inherited file descriptor 9 ({inheritedRw})"));
            Assert.That(activator.Log, Does.Match(@"confined: uid 65534 gid 65534 \(switched from root\), .*Landlock ABI [1-9]"));
        });

        activator.AssertServicesExit(TimeSpan.FromSeconds(15));
        TestImages.AssertClean(image);
    }

    [Test]
    public void HelpAndManPageDocumentTheSelfTest()
    {
        Assert.That(File.Exists(TestEnvironment.ServicePath), $"{TestEnvironment.ServicePath} is missing: run `make publish` first");
        CommandResult help = Command.Run(TestEnvironment.ServicePath, ["--help"], TimeSpan.FromSeconds(30));
        Assert.That(help.ExitCode, Is.Zero, help.ToString());
        Assert.That(help.StdOut, Does.Contain("safemount-ext4 --self-test").And.Contain(" --self-test "), help.StdOut);

        string page = Path.Combine(TestEnvironment.RepoRoot, "docs", "man", "safemount-ext4.8");
        CommandResult text = Command.Bash($"mandoc -Tascii '{page}' | col -b", TimeSpan.FromSeconds(30));
        Assert.That(text.ExitCode, Is.Zero, text.ToString());
        Assert.That(text.StdOut, Does.Contain("--self-test").And.Contain("\nSANDBOX\n").And.Contain("EPERM"), text.StdOut);
    }

    private static void AssertSelfTestPassed(CommandResult r)
    {
        string[] lines = r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.Zero, r.ToString());
            Assert.That(lines, Has.None.StartsWith("ALLOWED").And.None.StartsWith("FAIL"), r.ToString());
            foreach (string probe in Probes)
            {
                Assert.That(lines.Count(l => l.StartsWith("blocked " + probe, StringComparison.Ordinal)), Is.EqualTo(1), $"probe '{probe}': {r}");
            }

            Assert.That(lines.Count(l => l.StartsWith("ok ", StringComparison.Ordinal)), Is.EqualTo(3), r.ToString());
            Assert.That(lines[^1], Is.EqualTo("PASS: every probe was blocked"), r.ToString());
        });
    }
}
