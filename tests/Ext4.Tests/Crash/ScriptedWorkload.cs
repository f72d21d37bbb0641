namespace Safemount.Ext4.Tests.Crash;

/// <summary>A workload given as a delegate, for tests of the harness itself.</summary>
internal sealed class ScriptedWorkload(string name, Action<WorkloadDriver> script) : CrashWorkload
{
    public override string Name => name;

    public override void Run(WorkloadDriver d) => script(d);
}
