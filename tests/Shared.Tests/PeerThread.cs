namespace Safemount.Shared.Tests;

/// <summary>Runs one end of a conversation on its own thread and keeps its exception.</summary>
internal sealed class PeerThread
{
    private readonly Thread _thread;
    private Exception? _error;

    public PeerThread(Action body)
    {
        _thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                _error = e;
            }
        })
        { IsBackground = true };
        _thread.Start();
    }

    /// <summary>Waits for the thread and returns what it threw (null if nothing).</summary>
    public Exception? Join()
    {
        _thread.Join();
        return _error;
    }
}
