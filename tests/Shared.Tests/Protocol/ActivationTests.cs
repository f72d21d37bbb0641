using Safemount.Shared.Protocol;

namespace Safemount.Shared.Tests.Protocol;

[TestFixture]
public sealed class ActivationTests
{
    [TestCase("42", "1", null, 42, true, TestName = "systemd, our pid, one fd")]
    [TestCase("43", "1", null, 42, false, TestName = "systemd, another pid")]
    [TestCase("42", "2", null, 42, false, TestName = "systemd, two fds")]
    [TestCase(null, "1", null, 42, false, TestName = "LISTEN_FDS without LISTEN_PID")]
    [TestCase(null, null, "3", 42, true, TestName = "direct spawn")]
    [TestCase(null, null, "0", 42, true, TestName = "transient unit (stdin)")]
    [TestCase(null, null, "4", 42, false, TestName = "direct spawn, wrong fd")]
    [TestCase(null, null, "00", 42, false, TestName = "direct spawn, fd spelled 00")]
    [TestCase(null, null, null, 42, false, TestName = "not activated")]
    public void ActivationEnvironmentRules(string? listenPid, string? listenFds, string? direct, int pid, bool ok)
    {
        if (ok)
        {
            Assert.That(ServiceEndpoint.CheckActivation(listenPid, listenFds, direct, pid), Is.EqualTo(direct == "0" ? 0 : 3), "the connection's fd");
        }
        else
        {
            ProtocolException e = Assert.Throws<ProtocolException>(() => ServiceEndpoint.CheckActivation(listenPid, listenFds, direct, pid))!;
            Assert.That(e.Reason, Is.EqualTo(ProtocolErrorCode.PermissionDenied));
        }
    }
}
