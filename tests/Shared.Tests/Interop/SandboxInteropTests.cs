using System.Globalization;
using System.Runtime.InteropServices;
using Safemount.Shared.Interop;

namespace Safemount.Shared.Tests.Interop;

/// <summary>
/// The confinement interop (prctl, capabilities, rlimits, identity, Landlock, seccomp): struct
/// layouts pinned to the kernel headers, and every read-only call checked against /proc (proc(5)).
/// Nothing here confines the test process: that is the service's own test (SandboxTests).
/// </summary>
[TestFixture]
public sealed class SandboxInteropTests
{
    [Test]
    public void StructLayoutsMatchTheKernelHeaders()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Marshal.SizeOf<cap_user_header>(), Is.EqualTo(8));
            Assert.That(Marshal.OffsetOf<cap_user_header>(nameof(cap_user_header.pid)).ToInt32(), Is.EqualTo(4));
            Assert.That(Marshal.SizeOf<cap_user_data>(), Is.EqualTo(12));
            Assert.That(Marshal.OffsetOf<cap_user_data>(nameof(cap_user_data.permitted)).ToInt32(), Is.EqualTo(4));
            Assert.That(Marshal.OffsetOf<cap_user_data>(nameof(cap_user_data.inheritable)).ToInt32(), Is.EqualTo(8));
            Assert.That(Marshal.SizeOf<rlimit64>(), Is.EqualTo(16));
            Assert.That(Marshal.OffsetOf<rlimit64>(nameof(rlimit64.rlim_max)).ToInt32(), Is.EqualTo(8));
            Assert.That(Marshal.SizeOf<landlock_ruleset_attr>(), Is.EqualTo(24));
            Assert.That(Marshal.OffsetOf<landlock_ruleset_attr>(nameof(landlock_ruleset_attr.handled_access_net)).ToInt32(), Is.EqualTo(8));
            Assert.That(Marshal.OffsetOf<landlock_ruleset_attr>(nameof(landlock_ruleset_attr.scoped)).ToInt32(), Is.EqualTo(16));
            Assert.That(Marshal.SizeOf<sock_filter>(), Is.EqualTo(8));
            Assert.That(Marshal.OffsetOf<sock_filter>(nameof(sock_filter.jt)).ToInt32(), Is.EqualTo(2));
            Assert.That(Marshal.OffsetOf<sock_filter>(nameof(sock_filter.jf)).ToInt32(), Is.EqualTo(3));
            Assert.That(Marshal.OffsetOf<sock_filter>(nameof(sock_filter.k)).ToInt32(), Is.EqualTo(4));
            Assert.That(Marshal.SizeOf<sock_fprog>(), Is.EqualTo(16));
            Assert.That(Marshal.OffsetOf<sock_fprog>("filter").ToInt32(), Is.EqualTo(8));
        });
    }

    [Test]
    public void CapabilitiesOfThisThreadMatchProc()
    {
        Dictionary<string, string> status = ThreadStatus();
        (ulong eff, ulong prm, ulong inh) = CapabilityInterop.Get();
        Assert.Multiple(() =>
        {
            Assert.That(eff, Is.EqualTo(ulong.Parse(status["CapEff"], NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            Assert.That(prm, Is.EqualTo(ulong.Parse(status["CapPrm"], NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            Assert.That(inh, Is.EqualTo(ulong.Parse(status["CapInh"], NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
        });
    }

    [Test]
    public void BoundingSetReadsMatchProcAndEndAtTheLastCapability()
    {
        ulong fromProc = ulong.Parse(ThreadStatus()["CapBnd"], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        int lastCap = int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), CultureInfo.InvariantCulture);
        ulong read = 0;
        for (int cap = 0; cap <= lastCap; cap++)
        {
            bool? present = PrctlInterop.CapBoundingSetRead(cap);
            Assert.That(present, Is.Not.Null, $"capability {cap} is known to the kernel");
            read |= present!.Value ? 1UL << cap : 0;
        }

        Assert.That(read, Is.EqualTo(fromProc));
        Assert.That(PrctlInterop.CapBoundingSetRead(lastCap + 1), Is.Null, "EINVAL past cap_last_cap");
        Assert.That(PrctlInterop.AmbientIsSet(lastCap + 1), Is.Null);
    }

    [Test]
    public void NoNewPrivsAndSeccompModeMatchProc()
    {
        Dictionary<string, string> status = ThreadStatus();
        Assert.That(PrctlInterop.GetNoNewPrivs(), Is.EqualTo(status["NoNewPrivs"] == "1"));
        Assert.That(PrctlInterop.GetSeccompMode().ToString(CultureInfo.InvariantCulture), Is.EqualTo(status["Seccomp"]));
    }

    [Test]
    public void IdentityMatchesProc()
    {
        string[] uids = ThreadStatus()["Uid"].Split('\t');
        string[] gids = ThreadStatus()["Gid"].Split('\t');
        (uint ruid, uint euid, uint suid) = IdentityInterop.GetResUid();
        (uint rgid, uint egid, uint sgid) = IdentityInterop.GetResGid();
        Assert.That(new[] { ruid, euid, suid }.Select(u => u.ToString(CultureInfo.InvariantCulture)), Is.EqualTo(uids.Take(3)));
        Assert.That(new[] { rgid, egid, sgid }.Select(g => g.ToString(CultureInfo.InvariantCulture)), Is.EqualTo(gids.Take(3)));
    }

    [TestCase(ResourceInterop.RLIMIT_NOFILE, "Max open files")]
    [TestCase(ResourceInterop.RLIMIT_NPROC, "Max processes")]
    [TestCase(ResourceInterop.RLIMIT_CORE, "Max core file size")]
    public void ResourceLimitsMatchProc(int resource, string name)
    {
        string line = File.ReadLines("/proc/self/limits").Single(l => l.StartsWith(name, StringComparison.Ordinal));
        string[] fields = line[name.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        rlimit64 limit = ResourceInterop.Get(resource);
        Assert.That(Text(limit.rlim_cur), Is.EqualTo(fields[0]));
        Assert.That(Text(limit.rlim_max), Is.EqualTo(fields[1]));

        static string Text(ulong v) => v == ResourceInterop.RLIM_INFINITY ? "unlimited" : v.ToString(CultureInfo.InvariantCulture);
    }

    [Test]
    public void LandlockVersionIsAnAbiOrAnExplainedAbsence()
    {
        int abi = LandlockInterop.GetAbiVersion(out Errno error);
        Assert.That(abi > 0 || error is Errno.ENOSYS or Errno.EOPNOTSUPP or Errno.EPERM, $"abi {abi}, {error}");
    }

    [Test]
    public void DescriptorFlagsShowCloseOnExecAndMissingDescriptors()
    {
        using SafeFd f = FileInterop.Open("/dev/null", FileInterop.O_RDONLY);
        Assert.That(FileInterop.GetDescriptorFlags(f.Fd), Is.EqualTo(FileInterop.FD_CLOEXEC), "Open adds O_CLOEXEC");
        Assert.That(FileInterop.GetDescriptorFlags(int.MaxValue), Is.Null, "EBADF: no such descriptor");
    }

    /// <summary>/proc/thread-self/status: capability sets and seccomp state are per thread.</summary>
    private static Dictionary<string, string> ThreadStatus() =>
        File.ReadLines("/proc/thread-self/status")
            .Select(l => l.Split(':', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1].Trim());
}
