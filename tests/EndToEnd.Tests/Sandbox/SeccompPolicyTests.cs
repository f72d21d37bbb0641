using System.Buffers.Binary;
using System.Text.RegularExpressions;
using NUnit.Framework;
using Safemount.Ext4Service.Sandbox;
using Safemount.Shared.Interop;

namespace Safemount.EndToEnd.Tests.Sandbox;

/// <summary>
/// The compiled seccomp program, run by a classic-BPF evaluator over struct seccomp_data
/// (linux/seccomp.h) for the calls that matter, and the syscall table checked against the
/// system's asm/unistd_64.h. The kernel's verdict on the real binary is SandboxTests'.
/// </summary>
[TestFixture]
public sealed class SeccompPolicyTests
{
    private const int Pid = 4242;
    private const uint Allow = SeccompInterop.SECCOMP_RET_ALLOW;
    private const uint Kill = SeccompInterop.SECCOMP_RET_KILL_PROCESS;
    private const uint Eperm = SeccompInterop.SECCOMP_RET_ERRNO | (uint)Errno.EPERM;
    private const uint Enosys = SeccompInterop.SECCOMP_RET_ERRNO | (uint)Errno.ENOSYS;

    /// <summary>glibc pthread_create's clone flags (sysdeps/unix/sysv/linux/createthread.c).</summary>
    private const ulong ThreadFlags = 0x003d0f00;

    private static readonly sock_filter[] Program = SeccompPolicy.Compile(SeccompInterop.AUDIT_ARCH_X86_64, SeccompPolicy.X64Rules(Pid));

    [TestCase(0, TestName = "read")]
    [TestCase(1, TestName = "write")]
    [TestCase(17, TestName = "pread64")]
    [TestCase(18, TestName = "pwrite64 (read-write serving)")]
    [TestCase(296, TestName = "pwritev")]
    [TestCase(74, TestName = "fsync")]
    [TestCase(75, TestName = "fdatasync")]
    [TestCase(47, TestName = "recvmsg")]
    [TestCase(46, TestName = "sendmsg")]
    [TestCase(202, TestName = "futex")]
    [TestCase(9, TestName = "mmap")]
    [TestCase(231, TestName = "exit_group")]
    public void ServingCallsAreAllowed(int nr) => Assert.That(Run(nr), Is.EqualTo(Allow));

    [TestCase(2, TestName = "open")]
    [TestCase(257, TestName = "openat")]
    [TestCase(437, TestName = "openat2")]
    [TestCase(41, TestName = "socket")]
    [TestCase(53, TestName = "socketpair")]
    [TestCase(42, TestName = "connect")]
    [TestCase(59, TestName = "execve")]
    [TestCase(322, TestName = "execveat")]
    [TestCase(101, TestName = "ptrace")]
    [TestCase(165, TestName = "mount")]
    [TestCase(430, TestName = "fsopen")]
    [TestCase(57, TestName = "fork")]
    [TestCase(58, TestName = "vfork")]
    [TestCase(62, TestName = "kill")]
    [TestCase(105, TestName = "setuid")]
    [TestCase(126, TestName = "capset")]
    [TestCase(272, TestName = "unshare")]
    [TestCase(308, TestName = "setns")]
    [TestCase(317, TestName = "seccomp")]
    [TestCase(444, TestName = "landlock_create_ruleset")]
    [TestCase(310, TestName = "process_vm_readv")]
    [TestCase(311, TestName = "process_vm_writev")]
    [TestCase(319, TestName = "memfd_create")]
    [TestCase(425, TestName = "io_uring_setup")]
    [TestCase(321, TestName = "bpf")]
    [TestCase(298, TestName = "perf_event_open")]
    [TestCase(246, TestName = "kexec_load")]
    [TestCase(999, TestName = "an unassigned number")]
    public void EscapesAreDeniedWithEperm(int nr) => Assert.That(Run(nr), Is.EqualTo(Eperm));

    [Test]
    public void Clone3FailsWithEnosysSoThatGlibcFallsBackToClone() => Assert.That(Run(435), Is.EqualTo(Enosys));

    [Test]
    public void CloneIsAllowedForThreadsOnly()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Run(56, ThreadFlags), Is.EqualTo(Allow), "pthread_create");
            Assert.That(Run(56, 17 /* SIGCHLD: fork */), Is.EqualTo(Eperm), "fork-like clone");
            Assert.That(Run(56, ThreadFlags | 0x10000000 /* CLONE_NEWUSER */), Is.EqualTo(Eperm), "thread with a namespace flag");
            Assert.That(Run(56, 0x00000100 | 0x00004000 /* CLONE_VM|CLONE_VFORK */), Is.EqualTo(Eperm), "vfork-like clone");
        });
    }

    [Test]
    public void ArgumentChecksCompareAll64Bits()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Run(234, Pid, 1, 10), Is.EqualTo(Allow), "tgkill to this process");
            Assert.That(Run(234, 1, 1, 10), Is.EqualTo(Eperm), "tgkill to init");
            Assert.That(Run(234, (1UL << 32) | Pid, 1, 10), Is.EqualTo(Eperm), "tgkill whose high word differs");
            Assert.That(Run(302, 0, 7, 0, 0x7ffd0000), Is.EqualTo(Allow), "prlimit64 read");
            Assert.That(Run(302, 0, 7, 0x7ffd0000, 0), Is.EqualTo(Eperm), "prlimit64 write");
            Assert.That(Run(157, (ulong)PrctlInterop.PR_SET_NAME), Is.EqualTo(Allow), "PR_SET_NAME");
            Assert.That(Run(157, (ulong)PrctlInterop.PR_CAPBSET_DROP), Is.EqualTo(Eperm), "PR_CAPBSET_DROP");
            Assert.That(Run(157, 22 /* PR_SET_SECCOMP */), Is.EqualTo(Eperm), "PR_SET_SECCOMP");
            Assert.That(Run(157, 4 /* PR_SET_DUMPABLE */), Is.EqualTo(Eperm), "PR_SET_DUMPABLE");
            Assert.That(Run(16, 1, 0x5401), Is.EqualTo(Allow), "ioctl TCGETS");
            Assert.That(Run(16, 1, 0x5412 /* TIOCSTI */), Is.EqualTo(Eperm), "ioctl TIOCSTI");
            Assert.That(Run(16, 9, 0x80081272 /* BLKGETSIZE64 */), Is.EqualTo(Eperm), "ioctl on the device");
        });
    }

    [Test]
    public void ForeignArchitectureAndX32AreKilled()
    {
        Assert.Multiple(() =>
        {
            Assert.That(RunOn(0x40000003 /* AUDIT_ARCH_I386 */, 0), Is.EqualTo(Kill), "int 0x80 from x86_64");
            Assert.That(RunOn(SeccompInterop.AUDIT_ARCH_X86_64, 0x40000000 | 0), Is.EqualTo(Kill), "x32 read");
            Assert.That(RunOn(SeccompInterop.AUDIT_ARCH_X86_64, 0x40000000 | 257), Is.EqualTo(Kill), "x32 openat");
        });
    }

    [Test]
    public void EveryRuleIsReachableAndNoJumpLeavesTheProgram()
    {
        foreach (SyscallRule rule in SeccompPolicy.X64Rules(Pid))
        {
            uint verdict = rule.Kind switch
            {
                SyscallRuleKind.Allow => Run(rule.Nr),
                SyscallRuleKind.ThreadsOnly => Run(rule.Nr, ThreadFlags),
                SyscallRuleKind.AllowIfArgumentIn => RunArg(rule.Nr, rule.Argument, rule.Values![0]),
                _ => Run(rule.Nr),
            };
            uint expected = rule.Kind == SyscallRuleKind.Fail ? SeccompInterop.SECCOMP_RET_ERRNO | (uint)rule.Errno : Allow;
            Assert.That(verdict, Is.EqualTo(expected), $"syscall {rule.Nr} ({rule.Kind})");
        }

        Assert.That(Program, Has.Length.LessThanOrEqualTo(4096), "BPF_MAXINSNS");
    }

    [Test]
    public void SyscallNumbersMatchTheSystemHeader()
    {
        const string header = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";
        if (!File.Exists(header))
        {
            Assert.Ignore($"{header} is missing (package linux-libc-dev)");
        }

        Dictionary<string, int> numbers = Regex.Matches(File.ReadAllText(header), @"#define __NR_(\w+) (\d+)")
            .ToDictionary(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
        foreach (X64Syscall call in Enum.GetValues<X64Syscall>())
        {
            Assert.That(numbers.TryGetValue(call.ToString(), out int nr) ? nr : -1, Is.EqualTo((int)call), $"__NR_{call}");
        }
    }

    private static uint RunArg(int nr, int argument, uint value)
    {
        ulong[] args = new ulong[6];
        args[argument] = value;
        return Evaluate(Program, nr, SeccompInterop.AUDIT_ARCH_X86_64, args);
    }

    private static uint Run(int nr, params ulong[] args) => RunOn(SeccompInterop.AUDIT_ARCH_X86_64, nr, args);

    private static uint RunOn(uint arch, int nr, params ulong[] args)
    {
        ulong[] six = new ulong[6];
        args.CopyTo(six, 0);
        return Evaluate(Program, nr, arch, six);
    }

    /// <summary>
    /// Classic BPF as seccomp runs it (kernel/seccomp.c seccomp_check_filter allows these):
    /// BPF_LD|BPF_W|BPF_ABS, BPF_JMP|{JEQ,JGE,JSET}|BPF_K, BPF_RET|BPF_K. Fails the test on any
    /// other opcode, an out-of-range load, or a jump past the end.
    /// </summary>
    private static uint Evaluate(sock_filter[] program, int nr, uint arch, ulong[] args)
    {
        byte[] data = new byte[64];
        BinaryPrimitives.WriteInt32LittleEndian(data, nr);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), arch);
        for (int i = 0; i < 6; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(16 + (8 * i)), args[i]);
        }

        uint a = 0;
        int pc = 0;
        while (true)
        {
            Assert.That(pc, Is.InRange(0, program.Length - 1), "jump past the end of the program");
            sock_filter f = program[pc];
            switch (f.code)
            {
                case 0x20:
                    Assert.That(f.k % 4 == 0 && f.k + 4 <= data.Length, $"load at {f.k}");
                    a = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan((int)f.k));
                    pc++;
                    break;
                case 0x15:
                    pc += 1 + (a == f.k ? f.jt : f.jf);
                    break;
                case 0x35:
                    pc += 1 + (a >= f.k ? f.jt : f.jf);
                    break;
                case 0x45:
                    pc += 1 + ((a & f.k) != 0 ? f.jt : f.jf);
                    break;
                case 0x06:
                    return f.k;
                default:
                    Assert.Fail($"opcode 0x{f.code:x} at {pc}");
                    return 0;
            }
        }
    }
}
