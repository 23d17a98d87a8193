// A bundled thread module that does not import the package: nothing in it can run the target.
export default function plain() {
  return 'never run';
}
