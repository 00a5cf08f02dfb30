/** The app's mark and name: inside the top bar's home link, and on the login card. */
export function Brand() {
  return (
    <>
      <span className="brand-mark" aria-hidden="true">
        O
      </span>
      <span>
        Orders <span className="brand-sub">Back office</span>
      </span>
    </>
  );
}
