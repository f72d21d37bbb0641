using NUnit.Framework;

namespace Safemount.EndToEnd.Tests;

/// <summary>
/// POSIX ACLs enforced: with default_permissions and FUSE_POSIX_ACL the kernel checks access
/// against the system.posix_acl_* values the service returns (converted from ext4's on-disk
/// format), exactly as ext4 checks its own. acl-probe.sh runs the same read, access(2),
/// traverse, list and write probes as uid 1234 / gid 2345 on the kernel's mount and on
/// safe.ext4's; the allow/deny answers must be identical, and the kernel's must be the ones
/// POSIX ACL semantics demand (so a probe that cannot reach the files fails the test).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class AclEnforcementTests
{
    /// <summary>Probe name and whether uid 1234 (or the named ids) may do it; from the ACLs of make-acl-tree.sh.</summary>
    private static readonly (string Probe, bool Allowed)[] Expected =
    [
        ("read-user-allowed", true),               // mode 0600, user:1234:r
        ("read-user-denied", false),               // mode 0644, user:1234:--- beats other::r
        ("read-user-denied-other-uid", true),      // ...while uid 1235 falls to other::r
        ("read-group-allowed", true),              // mode 0600, group:2345:r, caller gid 2345
        ("read-group-allowed-wrong-group", false),
        ("read-mask-denied", false),               // user:1234:rw limited by mask::---
        ("read-other-allowed", true),
        ("access-r-user-denied", false),
        ("access-r-user-allowed", true),
        ("access-w-user-allowed", false),          // read-only mount: access(W_OK) is EROFS
        ("write-user-allowed", false),
        ("traverse-dir-no-x", false),              // user:1234:rw- on the directory: no search
        ("list-dir-no-x", true),                   // ...but read lists names
        ("access-x-dir-no-x", false),
        ("traverse-dir-x-only", true),             // mode 0700, user:1234:--x
        ("list-dir-x-only", false),
        ("traverse-dir-default", true),            // inherited user:1234:r from the default ACL
        ("traverse-dir-default-sub", false),       // the subdirectory inherits user:1234:r: no search
        ("list-dir-default-sub", true),            // ...but r lists its names
        ("traverse-dir-default-other", false),     // other::--- from the default ACL
    ];

    private string _work = string.Empty;

    [OneTimeSetUp]
    public void CreateWorkDir() => _work = Directory.CreateTempSubdirectory("safemount-acl-").FullName;

    [OneTimeTearDown]
    public void RemoveWorkDir() => VariantImages.RemoveWorkDir(_work);

    [TestCase("mkfs", false)]
    [TestCase("kernel", true)]
    public void AclDecisionsMatchTheKernel(string writer, bool kernelWritten)
    {
        TestEnvironment.RequireMountEnvironment();
        string script = Path.Combine(TestEnvironment.ScriptsDir, "make-acl-tree.sh");
        string image;
        if (kernelWritten)
        {
            image = VariantImages.KernelPopulated(_work, "acl-" + writer, "32M", [], ".", script);
        }
        else
        {
            string tree = Path.Combine(_work, "acl.tree");
            CommandResult mk = Command.Run(script, [tree], TimeSpan.FromMinutes(1));
            Assert.That(mk.ExitCode, Is.Zero, mk.ToString());
            image = VariantImages.FromTree(_work, "acl-" + writer, tree, "32M", []);
        }

        string output = Path.Combine(_work, writer + ".out");
        using var activator = new SocketActivator(_work);
        CommandResult r = Mounts.CompareInNamespace(image, output, _work, "ro", activator, Path.Combine(TestEnvironment.ScriptsDir, "acl-probe.sh"));
        Assert.That(r.ExitCode, Is.Zero, $"compare-mounts.sh: {r}\nservice log:\n{activator.Log}");
        TreeDump.AssertSame(Path.Combine(output, "kernel.txt"), Path.Combine(output, "safe.txt"));

        string[] kernel = File.ReadAllLines(Path.Combine(output, "probe-kernel.txt"));
        string[] safe = File.ReadAllLines(Path.Combine(output, "probe-safe.txt"));
        Assert.That(safe, Is.EqualTo(kernel), "safe.ext4 must allow and deny exactly what the kernel's ext4 does");
        var decided = kernel.ToDictionary(l => l.Split(' ')[0], l => l.Split(' ')[1] == "rc=0");
        Assert.That(decided.Keys, Is.EquivalentTo(Expected.Select(e => e.Probe)));
        foreach (var (probe, allowed) in Expected)
        {
            Assert.That(decided[probe], Is.EqualTo(allowed), $"{probe}: {kernel.Single(l => l.StartsWith(probe + " ", StringComparison.Ordinal))}");
        }

        activator.AssertServicesExit(TimeSpan.FromSeconds(15));
        TestImages.AssertClean(image);
    }
}
