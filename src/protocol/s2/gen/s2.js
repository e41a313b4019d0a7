/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-mixed-operators, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars, default-case, jsdoc/require-param*/
import $protobuf from "protobufjs/minimal.js";

// Common aliases
const $Reader = $protobuf.Reader, $Writer = $protobuf.Writer, $util = $protobuf.util;
const $Object = $util.global.Object, $undefined = $util.global.undefined, $Error = $util.global.Error, $RangeError = $util.global.RangeError;

// Exported root namespace
const $root = $protobuf.roots["edgestream_s2"] || ($protobuf.roots["edgestream_s2"] = {});

export const s2 = $root.s2 = (() => {

    /**
     * Namespace s2.
     * @exports s2
     * @namespace
     */
    const s2 = {};

    s2.v1 = (function() {

        /**
         * Namespace v1.
         * @memberof s2
         * @namespace
         */
        const v1 = {};

        v1.StreamPosition = (function() {

            /**
             * Properties of a StreamPosition.
             * @typedef {Object} s2.v1.StreamPosition.$Properties
             * @property {number|Long|null} [seqNum] StreamPosition seqNum
             * @property {number|Long|null} [timestamp] StreamPosition timestamp
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a StreamPosition.
             * @memberof s2.v1
             * @interface IStreamPosition
             * @augments s2.v1.StreamPosition.$Properties
             * @deprecated Use s2.v1.StreamPosition.$Properties instead.
             */

            /**
             * Shape of a StreamPosition.
             * @typedef {s2.v1.StreamPosition.$Properties} s2.v1.StreamPosition.$Shape
             */

            /**
             * Constructs a new StreamPosition.
             * @memberof s2.v1
             * @classdesc Represents a StreamPosition.
             * @constructor
             * @param {s2.v1.StreamPosition.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const StreamPosition = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * StreamPosition seqNum.
             * @member {number|Long} seqNum
             * @memberof s2.v1.StreamPosition
             * @instance
             */
            StreamPosition.prototype.seqNum = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * StreamPosition timestamp.
             * @member {number|Long} timestamp
             * @memberof s2.v1.StreamPosition
             * @instance
             */
            StreamPosition.prototype.timestamp = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * Encodes the specified StreamPosition message. Does not implicitly {@link s2.v1.StreamPosition.verify|verify} messages.
             * @function encode
             * @memberof s2.v1.StreamPosition
             * @static
             * @param {s2.v1.StreamPosition.$Properties} message StreamPosition message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            StreamPosition.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.seqNum != null && $Object.hasOwnProperty.call(message, "seqNum") && (typeof message.seqNum === "object" ? message.seqNum.low || message.seqNum.high : message.seqNum !== 0))
                    writer.uint32(/* id 1, wireType 0 =*/8).uint64(message.seqNum);
                if (message.timestamp != null && $Object.hasOwnProperty.call(message, "timestamp") && (typeof message.timestamp === "object" ? message.timestamp.low || message.timestamp.high : message.timestamp !== 0))
                    writer.uint32(/* id 2, wireType 0 =*/16).uint64(message.timestamp);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a StreamPosition message from the specified reader or buffer.
             * @function decode
             * @memberof s2.v1.StreamPosition
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {s2.v1.StreamPosition & s2.v1.StreamPosition.$Shape} StreamPosition
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            StreamPosition.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.s2.v1.StreamPosition();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                message.seqNum = value;
                            else
                                delete message.seqNum;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                message.timestamp = value;
                            else
                                delete message.timestamp;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            return StreamPosition;
        })();

        v1.Header = (function() {

            /**
             * Properties of a Header.
             * @typedef {Object} s2.v1.Header.$Properties
             * @property {Uint8Array|null} [name] Header name
             * @property {Uint8Array|null} [value] Header value
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a Header.
             * @memberof s2.v1
             * @interface IHeader
             * @augments s2.v1.Header.$Properties
             * @deprecated Use s2.v1.Header.$Properties instead.
             */

            /**
             * Shape of a Header.
             * @typedef {s2.v1.Header.$Properties} s2.v1.Header.$Shape
             */

            /**
             * Constructs a new Header.
             * @memberof s2.v1
             * @classdesc Represents a Header.
             * @constructor
             * @param {s2.v1.Header.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const Header = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * Header name.
             * @member {Uint8Array} name
             * @memberof s2.v1.Header
             * @instance
             */
            Header.prototype.name = $util.newBuffer([]);

            /**
             * Header value.
             * @member {Uint8Array} value
             * @memberof s2.v1.Header
             * @instance
             */
            Header.prototype.value = $util.newBuffer([]);

            /**
             * Encodes the specified Header message. Does not implicitly {@link s2.v1.Header.verify|verify} messages.
             * @function encode
             * @memberof s2.v1.Header
             * @static
             * @param {s2.v1.Header.$Properties} message Header message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            Header.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.name != null && $Object.hasOwnProperty.call(message, "name") && message.name.length)
                    writer.uint32(/* id 1, wireType 2 =*/10).bytes(message.name);
                if (message.value != null && $Object.hasOwnProperty.call(message, "value") && message.value.length)
                    writer.uint32(/* id 2, wireType 2 =*/18).bytes(message.value);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a Header message from the specified reader or buffer.
             * @function decode
             * @memberof s2.v1.Header
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {s2.v1.Header & s2.v1.Header.$Shape} Header
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            Header.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.s2.v1.Header();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.bytes()).length)
                                message.name = value;
                            else
                                delete message.name;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.bytes()).length)
                                message.value = value;
                            else
                                delete message.value;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            return Header;
        })();

        v1.AppendRecord = (function() {

            /**
             * Properties of an AppendRecord.
             * @typedef {Object} s2.v1.AppendRecord.$Properties
             * @property {number|Long|null} [timestamp] AppendRecord timestamp
             * @property {Array.<s2.v1.Header.$Properties>|null} [headers] AppendRecord headers
             * @property {Uint8Array|null} [body] AppendRecord body
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of an AppendRecord.
             * @memberof s2.v1
             * @interface IAppendRecord
             * @augments s2.v1.AppendRecord.$Properties
             * @deprecated Use s2.v1.AppendRecord.$Properties instead.
             */

            /**
             * Shape of an AppendRecord.
             * @typedef {s2.v1.AppendRecord.$Properties} s2.v1.AppendRecord.$Shape
             */

            /**
             * Constructs a new AppendRecord.
             * @memberof s2.v1
             * @classdesc Represents an AppendRecord.
             * @constructor
             * @param {s2.v1.AppendRecord.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const AppendRecord = function (properties) {
                this.headers = [];
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * AppendRecord timestamp.
             * @member {number|Long|null|undefined} timestamp
             * @memberof s2.v1.AppendRecord
             * @instance
             */
            AppendRecord.prototype.timestamp = null;

            /**
             * AppendRecord headers.
             * @member {Array.<s2.v1.Header.$Properties>} headers
             * @memberof s2.v1.AppendRecord
             * @instance
             */
            AppendRecord.prototype.headers = $util.emptyArray;

            /**
             * AppendRecord body.
             * @member {Uint8Array} body
             * @memberof s2.v1.AppendRecord
             * @instance
             */
            AppendRecord.prototype.body = $util.newBuffer([]);

            // OneOf field names bound to virtual getters and setters
            let $oneOfFields;

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(AppendRecord.prototype, "_timestamp", {
                get: $util.oneOfGetter($oneOfFields = ["timestamp"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Encodes the specified AppendRecord message. Does not implicitly {@link s2.v1.AppendRecord.verify|verify} messages.
             * @function encode
             * @memberof s2.v1.AppendRecord
             * @static
             * @param {s2.v1.AppendRecord.$Properties} message AppendRecord message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            AppendRecord.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.timestamp != null && $Object.hasOwnProperty.call(message, "timestamp"))
                    writer.uint32(/* id 1, wireType 0 =*/8).uint64(message.timestamp);
                if (message.headers != null && message.headers.length)
                    for (let i = 0; i < message.headers.length; ++i)
                        $root.s2.v1.Header.encode(message.headers[i], writer.uint32(/* id 2, wireType 2 =*/18).fork(), _depth + 1).ldelim();
                if (message.body != null && $Object.hasOwnProperty.call(message, "body") && message.body.length)
                    writer.uint32(/* id 3, wireType 2 =*/26).bytes(message.body);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes an AppendRecord message from the specified reader or buffer.
             * @function decode
             * @memberof s2.v1.AppendRecord
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {s2.v1.AppendRecord & s2.v1.AppendRecord.$Shape} AppendRecord
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            AppendRecord.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.s2.v1.AppendRecord();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 0)
                                break;
                            message.timestamp = reader.uint64();
                            message._timestamp = "timestamp";
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            if (!(message.headers && message.headers.length))
                                message.headers = [];
                            message.headers.push($root.s2.v1.Header.decode(reader, reader.size(), $undefined, _depth + 1));
                            continue;
                        }
                    case 3: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.bytes()).length)
                                message.body = value;
                            else
                                delete message.body;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            return AppendRecord;
        })();

        v1.AppendInput = (function() {

            /**
             * Properties of an AppendInput.
             * @typedef {Object} s2.v1.AppendInput.$Properties
             * @property {Array.<s2.v1.AppendRecord.$Properties>|null} [records] AppendInput records
             * @property {number|Long|null} [matchSeqNum] AppendInput matchSeqNum
             * @property {string|null} [fencingToken] AppendInput fencingToken
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of an AppendInput.
             * @memberof s2.v1
             * @interface IAppendInput
             * @augments s2.v1.AppendInput.$Properties
             * @deprecated Use s2.v1.AppendInput.$Properties instead.
             */

            /**
             * Shape of an AppendInput.
             * @typedef {s2.v1.AppendInput.$Properties} s2.v1.AppendInput.$Shape
             */

            /**
             * Constructs a new AppendInput.
             * @memberof s2.v1
             * @classdesc Represents an AppendInput.
             * @constructor
             * @param {s2.v1.AppendInput.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const AppendInput = function (properties) {
                this.records = [];
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * AppendInput records.
             * @member {Array.<s2.v1.AppendRecord.$Properties>} records
             * @memberof s2.v1.AppendInput
             * @instance
             */
            AppendInput.prototype.records = $util.emptyArray;

            /**
             * AppendInput matchSeqNum.
             * @member {number|Long|null|undefined} matchSeqNum
             * @memberof s2.v1.AppendInput
             * @instance
             */
            AppendInput.prototype.matchSeqNum = null;

            /**
             * AppendInput fencingToken.
             * @member {string|null|undefined} fencingToken
             * @memberof s2.v1.AppendInput
             * @instance
             */
            AppendInput.prototype.fencingToken = null;

            // OneOf field names bound to virtual getters and setters
            let $oneOfFields;

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(AppendInput.prototype, "_matchSeqNum", {
                get: $util.oneOfGetter($oneOfFields = ["matchSeqNum"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(AppendInput.prototype, "_fencingToken", {
                get: $util.oneOfGetter($oneOfFields = ["fencingToken"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Encodes the specified AppendInput message. Does not implicitly {@link s2.v1.AppendInput.verify|verify} messages.
             * @function encode
             * @memberof s2.v1.AppendInput
             * @static
             * @param {s2.v1.AppendInput.$Properties} message AppendInput message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            AppendInput.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.records != null && message.records.length)
                    for (let i = 0; i < message.records.length; ++i)
                        $root.s2.v1.AppendRecord.encode(message.records[i], writer.uint32(/* id 1, wireType 2 =*/10).fork(), _depth + 1).ldelim();
                if (message.matchSeqNum != null && $Object.hasOwnProperty.call(message, "matchSeqNum"))
                    writer.uint32(/* id 2, wireType 0 =*/16).uint64(message.matchSeqNum);
                if (message.fencingToken != null && $Object.hasOwnProperty.call(message, "fencingToken"))
                    writer.uint32(/* id 3, wireType 2 =*/26).string(message.fencingToken);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes an AppendInput message from the specified reader or buffer.
             * @function decode
             * @memberof s2.v1.AppendInput
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {s2.v1.AppendInput & s2.v1.AppendInput.$Shape} AppendInput
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            AppendInput.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.s2.v1.AppendInput();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if (!(message.records && message.records.length))
                                message.records = [];
                            message.records.push($root.s2.v1.AppendRecord.decode(reader, reader.size(), $undefined, _depth + 1));
                            continue;
                        }
                    case 2: {
                            if (wireType !== 0)
                                break;
                            message.matchSeqNum = reader.uint64();
                            message._matchSeqNum = "matchSeqNum";
                            continue;
                        }
                    case 3: {
                            if (wireType !== 2)
                                break;
                            message.fencingToken = reader.stringVerify();
                            message._fencingToken = "fencingToken";
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            return AppendInput;
        })();

        v1.AppendAck = (function() {

            /**
             * Properties of an AppendAck.
             * @typedef {Object} s2.v1.AppendAck.$Properties
             * @property {s2.v1.StreamPosition.$Properties|null} [start] AppendAck start
             * @property {s2.v1.StreamPosition.$Properties|null} [end] AppendAck end
             * @property {s2.v1.StreamPosition.$Properties|null} [tail] AppendAck tail
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of an AppendAck.
             * @memberof s2.v1
             * @interface IAppendAck
             * @augments s2.v1.AppendAck.$Properties
             * @deprecated Use s2.v1.AppendAck.$Properties instead.
             */

            /**
             * Shape of an AppendAck.
             * @typedef {s2.v1.AppendAck.$Properties} s2.v1.AppendAck.$Shape
             */

            /**
             * Constructs a new AppendAck.
             * @memberof s2.v1
             * @classdesc Represents an AppendAck.
             * @constructor
             * @param {s2.v1.AppendAck.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const AppendAck = function (properties) {
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * AppendAck start.
             * @member {s2.v1.StreamPosition.$Properties|null|undefined} start
             * @memberof s2.v1.AppendAck
             * @instance
             */
            AppendAck.prototype.start = null;

            /**
             * AppendAck end.
             * @member {s2.v1.StreamPosition.$Properties|null|undefined} end
             * @memberof s2.v1.AppendAck
             * @instance
             */
            AppendAck.prototype.end = null;

            /**
             * AppendAck tail.
             * @member {s2.v1.StreamPosition.$Properties|null|undefined} tail
             * @memberof s2.v1.AppendAck
             * @instance
             */
            AppendAck.prototype.tail = null;

            /**
             * Encodes the specified AppendAck message. Does not implicitly {@link s2.v1.AppendAck.verify|verify} messages.
             * @function encode
             * @memberof s2.v1.AppendAck
             * @static
             * @param {s2.v1.AppendAck.$Properties} message AppendAck message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            AppendAck.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.start != null && $Object.hasOwnProperty.call(message, "start"))
                    $root.s2.v1.StreamPosition.encode(message.start, writer.uint32(/* id 1, wireType 2 =*/10).fork(), _depth + 1).ldelim();
                if (message.end != null && $Object.hasOwnProperty.call(message, "end"))
                    $root.s2.v1.StreamPosition.encode(message.end, writer.uint32(/* id 2, wireType 2 =*/18).fork(), _depth + 1).ldelim();
                if (message.tail != null && $Object.hasOwnProperty.call(message, "tail"))
                    $root.s2.v1.StreamPosition.encode(message.tail, writer.uint32(/* id 3, wireType 2 =*/26).fork(), _depth + 1).ldelim();
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes an AppendAck message from the specified reader or buffer.
             * @function decode
             * @memberof s2.v1.AppendAck
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {s2.v1.AppendAck & s2.v1.AppendAck.$Shape} AppendAck
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            AppendAck.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.s2.v1.AppendAck();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            message.start = $root.s2.v1.StreamPosition.decode(reader, reader.size(), $undefined, _depth + 1, message.start);
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            message.end = $root.s2.v1.StreamPosition.decode(reader, reader.size(), $undefined, _depth + 1, message.end);
                            continue;
                        }
                    case 3: {
                            if (wireType !== 2)
                                break;
                            message.tail = $root.s2.v1.StreamPosition.decode(reader, reader.size(), $undefined, _depth + 1, message.tail);
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            return AppendAck;
        })();

        v1.SequencedRecord = (function() {

            /**
             * Properties of a SequencedRecord.
             * @typedef {Object} s2.v1.SequencedRecord.$Properties
             * @property {number|Long|null} [seqNum] SequencedRecord seqNum
             * @property {number|Long|null} [timestamp] SequencedRecord timestamp
             * @property {Array.<s2.v1.Header.$Properties>|null} [headers] SequencedRecord headers
             * @property {Uint8Array|null} [body] SequencedRecord body
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a SequencedRecord.
             * @memberof s2.v1
             * @interface ISequencedRecord
             * @augments s2.v1.SequencedRecord.$Properties
             * @deprecated Use s2.v1.SequencedRecord.$Properties instead.
             */

            /**
             * Shape of a SequencedRecord.
             * @typedef {s2.v1.SequencedRecord.$Properties} s2.v1.SequencedRecord.$Shape
             */

            /**
             * Constructs a new SequencedRecord.
             * @memberof s2.v1
             * @classdesc Represents a SequencedRecord.
             * @constructor
             * @param {s2.v1.SequencedRecord.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const SequencedRecord = function (properties) {
                this.headers = [];
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * SequencedRecord seqNum.
             * @member {number|Long} seqNum
             * @memberof s2.v1.SequencedRecord
             * @instance
             */
            SequencedRecord.prototype.seqNum = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * SequencedRecord timestamp.
             * @member {number|Long} timestamp
             * @memberof s2.v1.SequencedRecord
             * @instance
             */
            SequencedRecord.prototype.timestamp = $util.Long ? $util.Long.fromBits(0,0,true) : 0;

            /**
             * SequencedRecord headers.
             * @member {Array.<s2.v1.Header.$Properties>} headers
             * @memberof s2.v1.SequencedRecord
             * @instance
             */
            SequencedRecord.prototype.headers = $util.emptyArray;

            /**
             * SequencedRecord body.
             * @member {Uint8Array} body
             * @memberof s2.v1.SequencedRecord
             * @instance
             */
            SequencedRecord.prototype.body = $util.newBuffer([]);

            /**
             * Encodes the specified SequencedRecord message. Does not implicitly {@link s2.v1.SequencedRecord.verify|verify} messages.
             * @function encode
             * @memberof s2.v1.SequencedRecord
             * @static
             * @param {s2.v1.SequencedRecord.$Properties} message SequencedRecord message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            SequencedRecord.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.seqNum != null && $Object.hasOwnProperty.call(message, "seqNum") && (typeof message.seqNum === "object" ? message.seqNum.low || message.seqNum.high : message.seqNum !== 0))
                    writer.uint32(/* id 1, wireType 0 =*/8).uint64(message.seqNum);
                if (message.timestamp != null && $Object.hasOwnProperty.call(message, "timestamp") && (typeof message.timestamp === "object" ? message.timestamp.low || message.timestamp.high : message.timestamp !== 0))
                    writer.uint32(/* id 2, wireType 0 =*/16).uint64(message.timestamp);
                if (message.headers != null && message.headers.length)
                    for (let i = 0; i < message.headers.length; ++i)
                        $root.s2.v1.Header.encode(message.headers[i], writer.uint32(/* id 3, wireType 2 =*/26).fork(), _depth + 1).ldelim();
                if (message.body != null && $Object.hasOwnProperty.call(message, "body") && message.body.length)
                    writer.uint32(/* id 4, wireType 2 =*/34).bytes(message.body);
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a SequencedRecord message from the specified reader or buffer.
             * @function decode
             * @memberof s2.v1.SequencedRecord
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {s2.v1.SequencedRecord & s2.v1.SequencedRecord.$Shape} SequencedRecord
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            SequencedRecord.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message, value;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.s2.v1.SequencedRecord();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                message.seqNum = value;
                            else
                                delete message.seqNum;
                            continue;
                        }
                    case 2: {
                            if (wireType !== 0)
                                break;
                            if (typeof (value = reader.uint64()) === "object" ? value.low || value.high : value !== 0)
                                message.timestamp = value;
                            else
                                delete message.timestamp;
                            continue;
                        }
                    case 3: {
                            if (wireType !== 2)
                                break;
                            if (!(message.headers && message.headers.length))
                                message.headers = [];
                            message.headers.push($root.s2.v1.Header.decode(reader, reader.size(), $undefined, _depth + 1));
                            continue;
                        }
                    case 4: {
                            if (wireType !== 2)
                                break;
                            if ((value = reader.bytes()).length)
                                message.body = value;
                            else
                                delete message.body;
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            return SequencedRecord;
        })();

        v1.ReadBatch = (function() {

            /**
             * Properties of a ReadBatch.
             * @typedef {Object} s2.v1.ReadBatch.$Properties
             * @property {Array.<s2.v1.SequencedRecord.$Properties>|null} [records] ReadBatch records
             * @property {s2.v1.StreamPosition.$Properties|null} [tail] ReadBatch tail
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */

            /**
             * Properties of a ReadBatch.
             * @memberof s2.v1
             * @interface IReadBatch
             * @augments s2.v1.ReadBatch.$Properties
             * @deprecated Use s2.v1.ReadBatch.$Properties instead.
             */

            /**
             * Shape of a ReadBatch.
             * @typedef {s2.v1.ReadBatch.$Properties} s2.v1.ReadBatch.$Shape
             */

            /**
             * Constructs a new ReadBatch.
             * @memberof s2.v1
             * @classdesc Represents a ReadBatch.
             * @constructor
             * @param {s2.v1.ReadBatch.$Properties=} [properties] Properties to set
             * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
             */
            const ReadBatch = function (properties) {
                this.records = [];
                if (properties)
                    for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                        if (properties[keys[i]] != null && keys[i] !== "__proto__")
                            this[keys[i]] = properties[keys[i]];
            };

            /**
             * ReadBatch records.
             * @member {Array.<s2.v1.SequencedRecord.$Properties>} records
             * @memberof s2.v1.ReadBatch
             * @instance
             */
            ReadBatch.prototype.records = $util.emptyArray;

            /**
             * ReadBatch tail.
             * @member {s2.v1.StreamPosition.$Properties|null|undefined} tail
             * @memberof s2.v1.ReadBatch
             * @instance
             */
            ReadBatch.prototype.tail = null;

            // OneOf field names bound to virtual getters and setters
            let $oneOfFields;

            // Virtual OneOf for proto3 optional field
            $Object.defineProperty(ReadBatch.prototype, "_tail", {
                get: $util.oneOfGetter($oneOfFields = ["tail"]),
                set: $util.oneOfSetter($oneOfFields)
            });

            /**
             * Encodes the specified ReadBatch message. Does not implicitly {@link s2.v1.ReadBatch.verify|verify} messages.
             * @function encode
             * @memberof s2.v1.ReadBatch
             * @static
             * @param {s2.v1.ReadBatch.$Properties} message ReadBatch message or plain object to encode
             * @param {$protobuf.Writer} [writer] Writer to encode to
             * @returns {$protobuf.Writer} Writer
             */
            ReadBatch.encode = function (message, writer, _depth) {
                if (!writer)
                    writer = $Writer.create();
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $util.recursionLimit)
                    throw $Error("max depth exceeded");
                if (message.records != null && message.records.length)
                    for (let i = 0; i < message.records.length; ++i)
                        $root.s2.v1.SequencedRecord.encode(message.records[i], writer.uint32(/* id 1, wireType 2 =*/10).fork(), _depth + 1).ldelim();
                if (message.tail != null && $Object.hasOwnProperty.call(message, "tail"))
                    $root.s2.v1.StreamPosition.encode(message.tail, writer.uint32(/* id 2, wireType 2 =*/18).fork(), _depth + 1).ldelim();
                if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                    for (let i = 0; i < message.$unknowns.length; ++i)
                        writer.raw(message.$unknowns[i]);
                return writer;
            };

            /**
             * Decodes a ReadBatch message from the specified reader or buffer.
             * @function decode
             * @memberof s2.v1.ReadBatch
             * @static
             * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
             * @param {number} [length] Message length if known beforehand
             * @returns {s2.v1.ReadBatch & s2.v1.ReadBatch.$Shape} ReadBatch
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            ReadBatch.decode = function (reader, length, _end, _depth, _target) {
                if (!(reader instanceof $Reader))
                    reader = $Reader.create(reader);
                if (_depth === $undefined)
                    _depth = 0;
                if (_depth > $Reader.recursionLimit)
                    throw $Error("max depth exceeded");
                let end, message;
                if (length === $undefined)
                    end = reader.len;
                else {
                    end = reader.pos + length;
                    if (end > reader.len)
                        throw $RangeError("index out of range");
                    length = reader.len;
                    reader.len = end;
                }
                message = _target || new $root.s2.v1.ReadBatch();
                while (reader.pos < end) {
                    let start = reader.pos;
                    let tag = reader.tag();
                    if (tag === _end) {
                        _end = $undefined;
                        break;
                    }
                    let wireType = tag & 7;
                    switch (tag >>>= 3) {
                    case 1: {
                            if (wireType !== 2)
                                break;
                            if (!(message.records && message.records.length))
                                message.records = [];
                            message.records.push($root.s2.v1.SequencedRecord.decode(reader, reader.size(), $undefined, _depth + 1));
                            continue;
                        }
                    case 2: {
                            if (wireType !== 2)
                                break;
                            message.tail = $root.s2.v1.StreamPosition.decode(reader, reader.size(), $undefined, _depth + 1, message.tail);
                            message._tail = "tail";
                            continue;
                        }
                    }
                    reader.skipType(wireType, _depth, tag);
                    if (!reader.discardUnknown) {
                        $util.makeProp(message, "$unknowns", false);
                        (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                    }
                }
                if (length !== $undefined) {
                    if (reader.pos !== end)
                        throw $RangeError("index out of range");
                    reader.len = length;
                }
                if (_end !== $undefined)
                    throw $Error("missing end group");
                return message;
            };

            return ReadBatch;
        })();

        return v1;
    })();

    return s2;
})();

export {
  $root as default
};
