using System.CommandLine;
using System.CommandLine.Invocation;

namespace Safemount.Shared.CommandLine;

/// <summary>A System.CommandLine action that writes a fixed text to the invocation's output and succeeds.</summary>
internal sealed class FixedTextAction : SynchronousCommandLineAction
{
    private readonly string _text;

    public FixedTextAction(string text) => _text = text;

    public override int Invoke(ParseResult parseResult)
    {
        parseResult.InvocationConfiguration.Output.Write(_text);
        return 0;
    }
}
