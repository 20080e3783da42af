import { Component, type ReactNode } from "react";

/** A page that throws while rendering shows its error instead of a blank screen; the shell stays usable. */
export class ErrorBoundary extends Component<
  { children: ReactNode; fallback: (error: unknown) => ReactNode; reset_key: string },
  { error: unknown }
> {
  override state: { error: unknown } = { error: null };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  override componentDidUpdate(previous: { reset_key: string }) {
    if (previous.reset_key !== this.props.reset_key && this.state.error !== null)
      this.setState({ error: null });
  }
  override render() {
    return this.state.error === null ? this.props.children : this.props.fallback(this.state.error);
  }
}
